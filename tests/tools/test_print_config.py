"""print-config: the resolved config, as MMPose's / MMSeg's tools/misc/print_config.py print it."""
from mmengine.config import Config

from lip_toolkit.cli import main
from lip_toolkit.core.runner import load_config
from lip_toolkit.tools.print_config import print_config

POSE_CONFIG = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'


def test_printed_text_reads_back_as_the_same_config():
    text = print_config(POSE_CONFIG, {'train_cfg.max_epochs': 5})
    # mmengine itself parses the text back; it must equal the file with its _base_ merged and the override applied
    expected = load_config(POSE_CONFIG).to_dict()
    expected['train_cfg']['max_epochs'] = 5
    assert Config.fromstring(text, '.py').to_dict() == expected
    assert not text.startswith('_base_') and "type='TopdownPoseEstimator'" in text


def test_command_prints_it_and_refuses_a_missing_file_in_one_line(capsys):
    assert main(['print-config', POSE_CONFIG, '--cfg-options', 'train_cfg.max_epochs=7']) == 0
    assert 'max_epochs=7' in capsys.readouterr().out
    assert main(['print-config', 'configs/nope.py']) == 1
    err = capsys.readouterr().err
    assert err == 'error: configs/nope.py: config file not found\n'
