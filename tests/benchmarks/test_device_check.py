"""benchmarks/device_check.py: its pieces (dataset trimming, random init, step-time parsing, the report's labels,
failure and budget handling) and, as a slow test, the whole dry run on CPU at reduced size."""
import importlib.util
import json
import math
import subprocess
import sys

import pytest

from lip_toolkit.core.paths import REPO_ROOT

SCRIPT = REPO_ROOT / 'benchmarks' / 'device_check.py'


@pytest.fixture(scope='module')
def device_check():
    spec = importlib.util.spec_from_file_location('device_check', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_set_keeps_only_lip_and_weights_start_random(device_check):
    dataset = dict(type='CombinedDataset', datasets=[
        dict(type='LIPPoseDataset', data_root='data/LIP'), dict(type='CocoDataset', data_root='data/coco'),
        dict(type='ConcatDataset', datasets=[dict(type='LIPParsingDataset'), dict(type='AicDataset')])])
    device_check._lip_only(dataset)
    assert [d['type'] for d in dataset['datasets']] == ['LIPPoseDataset']
    model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='https://x/y.pth')),
                 head=dict(init_cfg=dict(type='Normal', std=0.01)), pretrained='open-mmlab://resnet101_v1c',
                 stages=[dict(init_cfg=dict(type='Pretrained', checkpoint='z.pth'))])
    device_check._no_pretrained(model)
    assert model['backbone']['init_cfg'] is None and model['stages'][0]['init_cfg'] is None
    assert model['head']['init_cfg'] == dict(type='Normal', std=0.01) and model['pretrained'] is None


def test_step_times_are_medians_after_warm_up(device_check, tmp_path):
    log = tmp_path / '20261207_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    times, data = [9.0, 5.0, 0.30, 0.10, 0.20, 0.40], [1.0, 1.0, 0.01, 0.03, 0.02, 0.04]
    log.write_text('\n'.join(json.dumps(dict(time=t, data_time=d, loss=1.0, step=i + 1))
                             for i, (t, d) in enumerate(zip(times, data))) + '\n')
    result = device_check.step_times(tmp_path, warmup=2)
    # by hand: (0.20 + 0.30) / 2 and (0.02 + 0.03) / 2 over the last four
    assert result == dict(iterations=6, median_step_s=0.25, median_data_s=0.025)


def test_failures_and_budget_are_recorded_not_raised(device_check):
    check = device_check.Check(budget_s=math.inf)
    assert check.step('fine', lambda: {'x': 1}) == {'x': 1}
    assert check.step('broken', lambda: 1 / 0) is None
    check.budget_s = -1
    assert check.step('late', lambda: {'y': 2}) is None
    assert [(s['step'], s['status'].split(':')[0]) for s in check.steps] == [
        ('fine', 'ok'), ('broken', 'FAILED'), ('late', 'skipped (time budget)')]
    assert 'ZeroDivisionError' in check.steps[1]['status'] and check.results == {'fine': {'x': 1}}
    assert len(check.failed) == 2


def test_report_names_the_gpu_and_never_passes_a_cpu_run_off_as_one(device_check):
    import argparse
    args = argparse.Namespace(device='cpu', reduced=True, iters=3)
    check = device_check.Check(budget_s=math.inf)
    check.results['environment'] = dict(gpu=None, cpus=2, torch='2.14.1', mmcv='2.1.0', mmcv_ops='import ok',
                                        python='3.11.7')
    assert 'CPU (2 cores) -- dry run, not a GPU figure' in device_check.markdown(check, args).splitlines()[0]
    check.results['environment'].update(gpu='NVIDIA H200')
    args.device, args.reduced = 'cuda', False
    assert device_check.markdown(check, args).splitlines()[0] == '### Device check on NVIDIA H200'


@pytest.mark.slow
def test_dry_run_on_cpu_runs_every_step(tmp_path):
    """The documented dry run, end to end: every step ok, and one checkpoint's outputs on 'both devices' (CPU
    twice here) equal."""
    out = tmp_path / 'device_check.json'
    done = subprocess.run([sys.executable, str(SCRIPT), '--device', 'cpu', '--reduced', '--work', str(tmp_path),
                           '--out', str(out), '--markdown', str(tmp_path / 'device_check.md')],
                          capture_output=True, text=True, timeout=1800, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [s for s in report['steps'] if s['status'] != 'ok'] == []
    results = report['results']
    for name in ('hrnet_w32', 'mspn', 'posefix', 'ce2p_r101', 'ce2p_dcn_r101', 'hrnetv2_w48'):
        assert results[f'train {name}']['iterations'] == 3
    assert results['device vs cpu hrnet_w32']['max_abs_diff'] == 0.0
    assert results['device vs cpu ce2p_dcn_r101']['images'] > 0
    assert results['device vs cpu ce2p_dcn_r101']['equal_label_share'] == 1.0
    assert 'not a GPU figure' in (tmp_path / 'device_check.md').read_text()
