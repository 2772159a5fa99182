"""Smoke test of benchmarks/bench_onnx.py at its ``--quick`` size (here because it needs onnxruntime, like the rest of
tests/deploy): both models are timed on both backends (the parsing one also as a fixed-size export) and every ratio
and parity figure is printed and finite."""
import importlib.util
import math
import re
import sys

import pytest

from lip_toolkit.core.paths import REPO_ROOT

RATIO = re.compile(r'^ratio (?P<label>.+?)  ort/eager  (?P<value>[0-9.]+)', re.MULTILINE)
FIXED_RATIO = re.compile(r'^ratio (?P<label>.+?)  ort-fixed/eager  (?P<value>[0-9.]+)', re.MULTILINE)


def test_bench_onnx_times_both_backends_and_prints_parity(capsys):
    pytest.importorskip('onnxruntime')
    import torch
    threads = torch.get_num_threads()
    spec = importlib.util.spec_from_file_location('bench_onnx', REPO_ROOT / 'benchmarks' / 'bench_onnx.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules['bench_onnx'] = module
    spec.loader.exec_module(module)
    try:
        status = module.main(['--quick', '--rounds', '1', '--batches', '1', '2'])
    finally:
        torch.set_num_threads(threads)
        from lip_toolkit.core.progress import set_quiet
        set_quiet(False)
    out = capsys.readouterr().out
    assert status in (0, 1)  # 1 = ran, but a target was missed on this (shared) machine
    ratios = {m['label']: float(m['value']) for m in RATIO.finditer(out)}
    assert set(ratios) == {f'{model} batch {batch}' for model in ('parsing tiny CE2P 96x96', 'pose tiny HRNet 128x96')
                           for batch in (1, 2)}, out
    # the parsing model's fixed-size export (export --shape) is timed beside the dynamic one, in the same rounds
    fixed = {m['label']: float(m['value']) for m in FIXED_RATIO.finditer(out)}
    assert set(fixed) == {f'parsing tiny CE2P 96x96 batch {batch}' for batch in (1, 2)}, out
    assert all(math.isfinite(v) and v > 0 for v in [*ratios.values(), *fixed.values()])
    assert 'onnxruntime fixed 96x96' in out
    agreements = [float(v) for v in re.findall(r'argmax agreement ([0-9.]+) %', out)]
    assert len(agreements) == 6 and min(agreements) >= 99.9, out  # the same network on the same input
