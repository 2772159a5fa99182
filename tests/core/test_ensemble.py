"""lip_toolkit/core/ensemble.py: batches dealt to ranks, the member table, the comparison with the best member."""
import pytest

import lip_toolkit.core.launch as launch
from lip_toolkit.core.ensemble import format_member_table, split_batches, versus_best_member


def test_batches_are_cut_first_then_dealt_to_ranks(monkeypatch):
    items = list(range(11))
    assert split_batches(items, 4) == [(0, [0, 1, 2, 3]), (4, [4, 5, 6, 7]), (8, [8, 9, 10])]
    shares = []
    for rank in range(2):
        monkeypatch.setattr(launch, 'rank_and_world', lambda rank=rank: (rank, 2))
        shares.append(split_batches(items, 4))
    # every image sits in the same batch as in a one-process run, whichever rank runs it
    assert shares == [[(0, [0, 1, 2, 3]), (8, [8, 9, 10])], [(4, [4, 5, 6, 7])]]


def test_member_table_lines_up_and_marks_missing_scores():
    table = format_member_table([('hrnet', '0.50', {'Mean': 91.234}), ('mspn', '0.50', {'Mean': None}),
                                 ('ensemble', '', {'Mean': 92.6})], [('PCKh', 'Mean')])
    assert table.splitlines() == ['model     weight    PCKh',
                                  'hrnet       0.50   91.23',
                                  'mspn        0.50       -',
                                  'ensemble           92.60']


def test_versus_best_member_says_plainly_when_the_ensemble_is_worse():
    members = [dict(name='a', mIoU=50.0), dict(name='b', mIoU=55.5)]
    worse = versus_best_member(members, dict(mIoU=54.0), 'mIoU', 'ensemble')
    assert worse['best_member'] == 'b' and worse['gain'] == pytest.approx(-1.5)
    assert worse['line'] == 'ensemble mIoU 54.00 is WORSE than the best member (b, 55.50): -1.50'
    better = versus_best_member(members, dict(mIoU=56.0), 'mIoU', 'ensemble + refiner')
    assert better['line'].startswith('ensemble + refiner mIoU 56.00 is better than') and better['gain'] == 0.5
    assert versus_best_member(members, dict(), 'mIoU', 'ensemble')['gain'] is None
