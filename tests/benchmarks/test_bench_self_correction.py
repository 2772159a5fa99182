"""benchmarks/bench_self_correction.py: the label noise it draws is the noise it describes, and (slow) what the
benchmark measures at a small budget: that self-correction really trains on refined labels and averages weights,
and the outcome docs/self_correction.md reports (no gain while the tiny model under-fits)."""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lip_toolkit.core.paths import REPO_ROOT


def _bench():
    name = 'bench_self_correction'
    if name not in sys.modules:  # registered under its name: the --jobs pool pickles its functions
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / 'benchmarks' / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _person():
    label = np.zeros((20, 20), np.uint8)
    label[2:18, 5:15] = 5      # upper clothes
    label[4:8, 2:5] = 14       # left arm
    label[4:8, 15:18] = 15     # right arm
    label[9:11, 9:11] = 3      # a 4-pixel glove inside the clothes
    label[0, :] = 255
    return label


def test_boundary_shift_grows_a_part_by_the_drawn_radius_and_never_touches_ignored_pixels():
    bench = _bench()
    label = np.zeros((12, 12), np.uint8)
    label[3:8, 4:7] = 14
    label[0:3, :] = 255
    grown = bench.shift_boundaries(label, np.random.default_rng(0), prob=1.0, max_shift=1)
    # radius 1: the part takes its 4-neighbours (cv2's 3x3 ellipse is a cross), ignored pixels stay ignored
    part = label == 14
    expected = part.copy()
    expected[1:] |= part[:-1]
    expected[:-1] |= part[1:]
    expected[:, 1:] |= part[:, :-1]
    expected[:, :-1] |= part[:, 1:]
    expected &= label != 255
    assert ((grown == 14) == expected).all()
    assert (grown[label == 255] == 255).all() and ((grown == 0) == ((label == 0) & ~expected)).all()
    assert (bench.shift_boundaries(label, np.random.default_rng(0), prob=0.0, max_shift=3) == label).all()


def test_boundary_shift_both_ways_grows_or_shrinks_a_part_by_the_drawn_radius():
    bench = _bench()
    label = np.zeros((9, 9), np.uint8)
    label[2:7, 2:5] = 14      # a 5x3 arm on background
    label[:, 8] = 255
    arm = label == 14
    grown = arm.copy()        # radius 1: the 4-neighbours (cv2's 3x3 ellipse is a cross)
    grown[1:] |= arm[:-1]
    grown[:-1] |= arm[1:]
    grown[:, 1:] |= arm[:, :-1]
    grown[:, :-1] |= arm[:, 1:]
    core = np.zeros_like(arm)
    core[3:6, 3] = True       # worked by hand: shrunk by 1, a 5x3 rectangle keeps its 3x1 inside
    seen = set()
    for seed in range(12):
        noisy = bench.shift_boundaries(label, np.random.default_rng(seed), prob=1.0, max_shift=1, shrink=True)
        direction = 'grow' if (noisy == 14).sum() > arm.sum() else 'shrink'
        assert ((noisy == 14) == (grown if direction == 'grow' else core)).all(), (seed, direction)
        assert ((noisy == 0) == ~(noisy == 14) & (label != 255)).all() and (noisy[label == 255] == 255).all()
        seen.add(direction)
    assert seen == {'grow', 'shrink'}   # a fair coin picks the direction
    for seed in range(6):               # without shrink, only growth
        assert ((bench.shift_boundaries(label, np.random.default_rng(seed), 1.0, 1) == 14) == grown).all()
    # with upper clothes on its right (shifted too), a shrunk arm's right side goes to the clothes, its left to
    # the background; the clothes' own shift (radius 1) reaches neither column 2 nor, shrinking, column 4
    label[2:7, 5:7] = 5
    shrinks = 0
    for seed in range(12):
        noisy = bench.shift_boundaries(label, np.random.default_rng(seed), prob=1.0, max_shift=1, shrink=True)
        if noisy[4, 2] != 14:
            assert (noisy[3:6, 2] == 0).all() and (noisy[3:6, 4] == 5).all() and (noisy[3:6, 3] == 14).all()
            shrinks += 1
    assert shrinks


def test_a_shrunk_part_gives_its_pixels_to_the_nearest_label_outside_it():
    bench = _bench()
    label = np.zeros((9, 9), np.uint8)
    label[2:7, 2:5] = 14      # the arm, background on three sides ...
    label[2:7, 5:7] = 5       # ... and upper clothes on its right
    filled = bench.nearest_outside_label(label, label == 14)
    assert (filled[label != 14] == label[label != 14]).all()
    # worked by hand (pixels without a tie): the left column and the top / bottom rows' middle take the
    # background, the right column's middle the clothes, the centre is 2 from both: (4, 3) is 2 from column 1
    # (background) and 2 from column 5 (clothes), a tie; (4, 2) is 1 from column 1
    for (row, col), expected in {(4, 2): 0, (3, 2): 0, (2, 3): 0, (6, 3): 0, (4, 4): 5, (3, 4): 5, (5, 4): 5}.items():
        assert filled[row, col] == expected, (row, col)
    assert set(np.unique(filled[label == 14])) <= {0, 5}


def test_small_parts_take_the_label_that_surrounds_them_and_large_parts_stay():
    bench = _bench()
    label = _person()
    dropped = bench.drop_small_parts(label, np.random.default_rng(0), prob=1.0, small_area=10)
    assert not (dropped == 3).any() and (dropped[label == 3] == 5).all()
    assert ((dropped == label) | (label == 3)).all()
    kept = bench.drop_small_parts(label, np.random.default_rng(0), prob=1.0, small_area=4)  # 4 is not < 4
    assert (kept == label).all()


def test_left_right_swap_exchanges_every_pair():
    bench = _bench()
    label = _person()
    label[12, 12] = 18
    swapped = bench.swap_left_right(label)
    assert (swapped[label == 14] == 15).all() and (swapped[label == 15] == 14).all()
    assert (swapped[label == 18] == 19).all() and (swapped[label == 5] == 5).all()


# A small budget of the benchmark's regime (the default's 160 images and 75 epochs take about 25 CPU-minutes):
# three trainings of 240 iterations, self-correction from epoch 25 (aggregations at 25, 30, 35, 40).
SMALL = ['--boundary', 'grow', '--train', '48', '--val', '16', '--seeds', '0', '--epochs', '40', '--start-epoch', '25',
         '--cycle-epochs', '5', '--ablation', '--diagnose', '--jobs', '2']
# Measured with exactly this command (docs/self_correction.md): weight gaps 0.046, 0.039, 0.031 at aggregations
# 2-4 (0 at the first, a copy); gain -0.80 (4.77 without, 3.97 with self-correction); the plain model scores
# 5.4 mIoU on its training images against the clean labels, the noisy labels 52.6.
WEIGHT_GAP_MIN = 0.005
GAIN_RANGE = (-3.0, 0.5)


@pytest.mark.slow
def test_small_budget_trains_on_refined_labels_averages_weights_and_shows_no_gain(tmp_path):
    import torch
    out = tmp_path / 'bench'
    done = subprocess.run([sys.executable, str(REPO_ROOT / 'benchmarks' / 'bench_self_correction.py'), '--out',
                           str(out), '--json', str(tmp_path / 'result.json'), *SMALL], capture_output=True, text=True,
                          timeout=3600, env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / 'result.json').read_text())
    row = result['rows'][0]
    steps = row['corrected']['aggregations']
    assert [step['epoch'] for step in steps] == [25, 30, 35, 40]  # SCHP: at start_epoch, then every cycle

    # The refined labels reach the loss: with the same seed, batches, cycles and aggregation, training on them
    # ends with other weights than the hard-label ablation (identical, bit for bit, if the labels were not replaced).
    corrected = torch.load(out / 'corrected_0' / 'epoch_40.pth', map_location='cpu', weights_only=False)
    hard = torch.load(out / 'hard_0' / 'epoch_40.pth', map_location='cpu', weights_only=False)
    assert any(not torch.equal(value, hard['state_dict'][key]) for key, value in corrected['state_dict'].items())
    # ... and they are not the noisy labels: the aggregated model moves pixels away from them, here towards the
    # truth less than the noisy labels are (the model under-fits): the reason for no gain
    assert all(step['averaged']['refined_vs_noisy'] < 99.0 for step in steps)
    assert all(step['averaged']['refined_vs_clean'] < result['agreement']['mIoU'] for step in steps)

    # The weights are averaged: a copy at the first aggregation, then away from the model as trained
    assert steps[0]['weight_gap'] == 0.0
    assert all(step['weight_gap'] > WEIGHT_GAP_MIN for step in steps[1:])

    # What docs/self_correction.md reports at this budget: the model is far below the noisy labels on its own
    # training images (under-fits), so the refined labels lean on a worse source and self-correction gains nothing
    assert row['plain']['train_vs_clean'] < result['agreement']['mIoU'] - 20
    gain = row['corrected']['mIoU'] - row['plain']['mIoU']
    assert GAIN_RANGE[0] <= gain <= GAIN_RANGE[1], gain


# The third round's setting (docs/self_correction.md, "Symmetric noise, SCHP's losses and a model that
# generalises"): the tiny CE2P-OCNet with SCHP's losses, noise that grows or shrinks parts, seed 1 of the documented
# three. Measured with exactly these arguments: plain 18.13, self-correction 16.60, hard-label ablation 18.88 val
# mIoU; the plain model 35.40 mIoU on its training images against the clean labels, the noisy labels 60.7; refined
# labels 41.1 -> 30.4 (reproduced exactly by this test: 25 minutes on 2 idle cores, three trainings of 1,800 its).
CE2P_SEED_1 = ['--config', 'configs/parsing/schp/schp_ce2p-aspoc_r18-d16-tiny_1xb4-45e_synthetic-128x96.py',
               '--image-height', '128', '--epochs', '45', '--start-epoch', '30', '--cycle-epochs', '3',
               '--batch-size', '4', '--soft-loss-scale', '0.05', '--seeds', '1', '--ablation', '--diagnose',
               '--jobs', '2']


@pytest.mark.slow
def test_with_a_model_that_generalises_the_label_refinement_is_what_costs(tmp_path):
    done = subprocess.run([sys.executable, str(REPO_ROOT / 'benchmarks' / 'bench_self_correction.py'), '--out',
                           str(tmp_path / 'bench'), '--json', str(tmp_path / 'result.json'), *CE2P_SEED_1],
                          capture_output=True, text=True, timeout=5400, cwd=REPO_ROOT,
                          env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / 'result.json').read_text())
    row = result['rows'][0]
    assert [step['epoch'] for step in row['corrected']['aggregations']] == [30, 33, 36, 39, 42, 45]
    plain, corrected, hard = (row[arm]['mIoU'] for arm in ('plain', 'corrected', 'hard'))
    # What docs/self_correction.md reports: refining the labels costs (-2.28 here, -2.46 +- 0.16 over three seeds),
    # the cycles and aggregation alone do not (+0.75 here, -0.31 +- 0.93). If a change makes the refinement stop
    # costing, this fails and the page must be updated.
    assert corrected - hard < -1.0, (corrected, hard)
    assert corrected < plain and abs(hard - plain) < 2.0, (plain, corrected, hard)
    # ... because the model is far below the noisy labels on its own training images, and the refined labels,
    # the aggregated model's predictions wherever it is confident, are worse than the labels they replace
    assert row['plain']['train_vs_clean'] < result['agreement']['mIoU'] - 20
    assert all(step['averaged']['refined_vs_clean'] < result['agreement']['mIoU'] - 15
               for step in row['corrected']['aggregations'])
