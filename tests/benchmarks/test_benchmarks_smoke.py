"""Smoke tests of the benchmark scripts: each runs at its tiny ``--quick`` size and prints its ratio lines.

The scripts are loaded as modules and their ``main`` is called in this process, so the heavy imports (torch,
mmpose, mmseg) are paid once for the whole file, and they read the session's synthetic LIP (``--data-root``)
instead of writing their own. The figures themselves are not checked (a shared CI machine
makes them meaningless); what is checked is that every comparison ran and printed a finite ratio.
"""
import importlib.util
import math
import re
import sys

import pytest

from lip_toolkit.core.paths import REPO_ROOT

BENCHMARKS = REPO_ROOT / 'benchmarks'
RATIO = re.compile(r'^ratio (?P<label>.+?)\s+(?:ours/stock|evaluate/host|evaluation time 10N/N)\s+'
                   r'(?P<value>[0-9.]+)', re.MULTILINE)


@pytest.fixture(autouse=True)
def restore_process_state():
    """The scripts set process-wide state (quiet progress, thread counts, the registry scope, numpy's seed):
    put it back, so that tests running later in this session see what they would have seen."""
    import cv2
    import numpy as np
    import torch
    from mmengine.registry import DefaultScope

    from lip_toolkit.core.progress import is_quiet, set_quiet

    quiet, cv2_threads, torch_threads = is_quiet(), cv2.getNumThreads(), torch.get_num_threads()
    random_state = np.random.get_state()
    with DefaultScope.overwrite_default_scope('mmengine'):  # restores the scope instances on exit
        yield
    set_quiet(quiet)
    cv2.setNumThreads(cv2_threads)
    torch.set_num_threads(torch_threads)
    np.random.set_state(random_state)


def load(name: str):
    """Import ``benchmarks/<name>.py`` (registered under its name: process pools pickle its functions)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def ratios(text: str) -> dict:
    found = {match['label'].strip(): float(match['value']) for match in RATIO.finditer(text)}
    assert all(math.isfinite(value) and value > 0 for value in found.values()), found
    return found


def run(name: str, argv, capsys) -> str:
    status = load(name).main(argv)
    assert status in (0, 1)  # 1 = ran, but a target was missed on this (shared) machine
    return capsys.readouterr().out


def test_pipelines_compare_ours_and_stock_for_both_tracks(synthetic_lip, capsys):
    out = run('bench_pipelines', ['--quick', '--data-root', str(synthetic_lip)], capsys)
    assert set(ratios(out)) == {'pose 384x288', 'parsing 480'}, out
    assert re.search(r'pose 384x288 +ours +[0-9.]+ img/s \| stock +[0-9.]+ img/s', out), out


def test_inference_compares_evaluate_with_host_apis(synthetic_lip, capsys):
    out = run('bench_inference', ['--quick', '--data-root', str(synthetic_lip)], capsys)
    assert set(ratios(out)) == {'pose tiny HRNet 128x96', 'parsing tiny CE2P 96'}, out
    assert 'inference_topdown' in out and 'inference_model' in out
    # parsing is also timed against the host on evaluate's canvas, and the target is judged on that pair
    assert re.search(r"inference_model padded to evaluate's canvas +[0-9.]+ s", out), out
    assert re.search(r'^ratio parsing tiny CE2P 96 +evaluate/host same canvas +[0-9.]+ +\((meets|MISSES) the',
                     out, re.MULTILINE), out


def test_scaling_reports_n_and_10n_and_the_command(capsys):
    out = run('bench_scaling', ['--quick'], capsys)
    assert set(ratios(out)) == {'pose', 'parsing'}, out
    assert re.search(r'lip-toolkit evaluate pose .* [0-9.]+ s wall, [0-9.]+ s CPU', out), out
    assert 'heavy imports: []' in out, out  # offline scoring imports no torch / mmpose / mmseg / cv2
    assert re.search(r'parsing .* 80 images:', out), out


def test_run_all_writes_the_page_with_machine_command_and_date(tmp_path, capsys):
    page = tmp_path / 'benchmarks.md'
    status = load('run_all').main(['--quick', '--only', 'bench_pckh.py', '--out', str(page)])
    assert status == 0
    text = page.read_text()
    assert re.search(r'Run on \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)', text)
    assert '**Machine**' in text and 'mmpose 1.3.2' in text
    assert '`python benchmarks/bench_pckh.py --repeat 1`' in text
    assert 'vectorised scoring is' in text  # the script's own output, unedited


def test_run_all_refuses_an_unknown_script(tmp_path):
    with pytest.raises(SystemExit):
        load('run_all').main(['--only', 'bench_nothing.py', '--out', str(tmp_path / 'x.md')])
    assert not (tmp_path / 'x.md').exists()
