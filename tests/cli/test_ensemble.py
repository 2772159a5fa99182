"""``lip-toolkit ensemble``: wiring, ensemble files (JSON, YAML), errors, and 2 gloo ranks == 1 rank exactly."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lip_toolkit.cli import main

PARSING = 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'
POSE = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'
PARSING_B = {'model.test_cfg.input_size': [48, 32]}
POSE_B = {'model.head.decoder.input_size': [64, 96], 'model.head.decoder.heatmap_size': [16, 24],
          'test_dataloader.dataset.pipeline.2.input_size': [64, 96]}


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Five val images (an odd count: the ranks get unequal shares) and fresh tiny checkpoints of both tracks."""
    import torch

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    from lip_toolkit.pose.inference import build_pose_model
    from lip_toolkit.synthetic import synthesize_lip
    root = tmp_path_factory.mktemp('cli_ensemble')
    synthesize_lip(root / 'lip', train=0, val=5, test=1, seed=7)
    for seed, (name, build, config, options) in enumerate((
            ('parsing_a', build_parsing_model, PARSING, None), ('parsing_b', build_parsing_model, PARSING, PARSING_B),
            ('pose_a', build_pose_model, POSE, None), ('pose_b', build_pose_model, POSE, POSE_B))):
        torch.manual_seed(seed)
        model = build(load_config(config, options), device='cpu')
        if name.startswith('parsing'):  # wider weights: the default init answers one class everywhere
            for param_name, param in model.named_parameters():
                if param.dim() > 1:
                    torch.nn.init.kaiming_normal_(param)
                else:
                    torch.nn.init.normal_(param, 0.0 if param_name.endswith('bias') else 1.0, 0.2)
        torch.save({'state_dict': model.state_dict()}, root / f'{name}.pth')
    return root


def _run_two_ranks(args, cwd):
    env = dict(os.environ, LIP_TOOLKIT_QUIET='1', PYTHONWARNINGS='ignore')
    for _ in range(2):
        proc = subprocess.run([sys.executable, '-m', 'lip_toolkit', *args, '--gpus', '2'], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)
        # The free port torchrun is given can be taken by another job on a shared machine before it binds.
        if proc.returncode == 0 or 'address already in use' not in proc.stderr.lower():
            break
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def _without_out(path):
    return {k: v for k, v in json.loads(path.read_text()).items() if k != 'out'}


def test_parsing_json_ensemble_two_ranks_equal_one_rank(setup, tmp_path, capsys):
    from lip_toolkit.parsing.label_io import read_label_map
    ensemble = tmp_path / 'parsing.json'
    ensemble.write_text(json.dumps(dict(track='parsing', average='softmax', flip=True, members=[
        dict(config=PARSING, checkpoint=str(setup / 'parsing_a.pth'), weight=1.0, name='a'),
        dict(config=PARSING, checkpoint='parsing_b.pth', weight=0.5, name='b', cfg_options=PARSING_B)])))
    (tmp_path / 'parsing_b.pth').symlink_to(setup / 'parsing_b.pth')  # relative: found beside the file
    common = ['ensemble', str(ensemble), '--data-root', str(setup / 'lip'), '--batch-size', '2']
    assert main(['-q', *common, '--out', str(tmp_path / 'one'), '--json', str(tmp_path / 'one.json')]) == 0
    printed = capsys.readouterr().out
    assert 'ensemble (softmax)' in printed and '5 predictions written' in printed
    stdout = _run_two_ranks(['-q', *common, '--out', str(tmp_path / 'two'), '--json', str(tmp_path / 'two.json')],
                            os.getcwd())
    assert stdout.count('ensemble (softmax)') == 1  # only rank 0 prints
    assert _without_out(tmp_path / 'one.json') == _without_out(tmp_path / 'two.json')
    one = sorted((tmp_path / 'one').iterdir())
    assert [p.name for p in one] == sorted(p.name for p in (tmp_path / 'two').iterdir()) and len(one) == 5
    for path in one:
        np.testing.assert_array_equal(read_label_map(path), read_label_map(tmp_path / 'two' / path.name))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]  # no staging folder left


@pytest.mark.slow  # ~15 s idle, 40 s on a loaded 2-core machine; the parsing case above covers the default suite
def test_pose_yaml_ensemble_two_ranks_equal_one_rank(setup, tmp_path):
    import yaml
    ensemble = tmp_path / 'pose.yaml'
    ensemble.write_text(yaml.safe_dump(dict(track='pose', members=[
        dict(config=POSE, checkpoint=str(setup / 'pose_a.pth'), weight=1.0),
        dict(config=POSE, checkpoint=str(setup / 'pose_b.pth'), weight=1.0, name='b', cfg_options=POSE_B)])))
    common = ['ensemble', str(ensemble), '--data-root', str(setup / 'lip'), '--batch-size', '2']
    assert main(['-q', *common, '--out', str(tmp_path / 'one.csv'), '--json', str(tmp_path / 'one.json')]) == 0
    _run_two_ranks(['-q', *common, '--out', str(tmp_path / 'two.csv'), '--json', str(tmp_path / 'two.json')],
                   os.getcwd())
    assert (tmp_path / 'one.csv').read_text() == (tmp_path / 'two.csv').read_text()
    one = _without_out(tmp_path / 'one.json')
    assert one == _without_out(tmp_path / 'two.json') and one['num_images'] == 5
    assert [m['name'] for m in one['members']] == ['pose_hrnet-tiny_lip-128x96', 'b']


@pytest.mark.parametrize('args, message', [
    ([], 'an ensemble needs at least one member'),
    (['--member', POSE, 'missing.pth', '1'], "checkpoint of member 'pose_hrnet-tiny_lip-128x96' not found"),
    (['--member', POSE, 'x.pth', 'heavy'], "--member 1: weight must be a number, got 'heavy'"),
    (['--member', POSE, 'x.pth', '-1'], 'weight must be a finite number >= 0'),
])
def test_bad_members_are_one_line_errors(args, message, tmp_path, capsys):
    assert main(['ensemble', *args, '--out', str(tmp_path / 'out.csv')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err and err.count('\n') == 1
    assert not (tmp_path / 'out.csv').exists()


def test_track_settings_are_checked(setup, capsys):
    assert main(['ensemble', '--member', POSE, str(setup / 'pose_a.pth'), '1', '--average', 'softmax']) == 1
    assert 'average (logits/softmax) applies to parsing ensembles only' in capsys.readouterr().err
    assert main(['ensemble', '--member', POSE, str(setup / 'pose_a.pth'), '1',
                 '--member', PARSING, str(setup / 'parsing_a.pth'), '1']) == 1
    assert 'members mix pose and parsing configs' in capsys.readouterr().err


def test_test_split_predictions_become_valid_submissions(setup, tmp_path, capsys):
    test_ids = str(setup / 'lip' / 'Testing_images' / 'test_id.txt')
    common = ['-q', 'ensemble', '--split', 'test', '--data-root', str(setup / 'lip')]
    assert main([*common, '--member', POSE, str(setup / 'pose_a.pth'), '1', '--out', str(tmp_path / 'p.csv')]) == 0
    assert main([*common, '--member', PARSING, str(setup / 'parsing_a.pth'), '1', '--out', str(tmp_path / 'pngs'),
                 '--flip', '--scales', '0.75,1']) == 0
    assert main(['-q', 'submit', 'pose', '--pred', str(tmp_path / 'p.csv'), '--test-ids', test_ids,
                 '--out', str(tmp_path / 'pose.csv')]) == 0
    assert main(['-q', 'submit', 'parsing', '--pred-dir', str(tmp_path / 'pngs'), '--test-ids', test_ids,
                 '--out', str(tmp_path / 'parsing.zip')]) == 0
    capsys.readouterr()
    assert main(['submit', '--check', str(tmp_path / 'pose.csv'), str(tmp_path / 'parsing.zip'),
                 '--test-ids', test_ids]) == 0
    assert capsys.readouterr().out.count('OK ') == 2
