"""`run_ensemble` (lip_toolkit/ensemble.py) and the collectives and output folders the track ensembles use."""
import pytest

import lip_toolkit.core.launch as launch
from lip_toolkit.core.launch import all_gather_objects, all_reduce_sum, output_directory
from lip_toolkit.ensemble import DEFAULT_BATCH_SIZE


def test_single_process_collectives_are_identities():
    import numpy as np
    array = np.arange(4)
    assert all_reduce_sum(array) is array
    assert all_gather_objects({'a': 1}) == [{'a': 1}]


def test_output_directory_appears_complete_or_not_at_all(tmp_path):
    out = tmp_path / 'pngs'
    with output_directory(out) as folder:
        (folder / 'a.png').write_bytes(b'x')
        assert not out.exists()  # built aside
    assert [p.name for p in out.iterdir()] == ['a.png']
    with pytest.raises(RuntimeError):
        with output_directory(out) as folder:
            (folder / 'b.png').write_bytes(b'y')
            raise RuntimeError('crash half-way')
    assert [p.name for p in out.iterdir()] == ['a.png']  # the previous complete output is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ['pngs']
    with output_directory(None) as folder:
        assert folder is None


def test_default_batch_sizes_are_those_of_evaluate():
    import inspect

    from lip_toolkit.parsing.inference import evaluate_checkpoint as parsing_evaluate
    from lip_toolkit.pose.inference import evaluate_checkpoint as pose_evaluate
    assert DEFAULT_BATCH_SIZE['pose'] == inspect.signature(pose_evaluate).parameters['batch_size'].default
    assert DEFAULT_BATCH_SIZE['parsing'] == inspect.signature(parsing_evaluate).parameters['batch_size'].default
