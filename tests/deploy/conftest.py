"""Tiny demo models exported once per test session (each export traces the network and runs the parity check)."""
import pytest

PARSING_CONFIG = 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'
POSE_CONFIG = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'


def initial_weights(config, path, seed=0):
    """A checkpoint of the freshly initialised model: the tests' stand-in for trained weights."""
    import torch

    from lip_toolkit.core.runner import config_track, load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    from lip_toolkit.pose.inference import build_pose_model
    cfg = load_config(config)
    builder = build_pose_model if config_track(cfg) == 'pose' else build_parsing_model
    torch.manual_seed(seed)
    torch.save({'state_dict': builder(cfg, None, 'cpu').state_dict()}, path)
    return path


def _exported(tmp_path_factory, config, name):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from lip_toolkit.deploy import export_model
    folder = tmp_path_factory.mktemp(name)
    checkpoint = initial_weights(config, folder / f'{name}.pth')
    report = export_model(config, checkpoint, folder / f'{name}.onnx')
    return dict(config=config, checkpoint=checkpoint, onnx=folder / f'{name}.onnx', report=report)


@pytest.fixture(scope='session')
def tiny_parsing(tmp_path_factory):
    """CE2P-OCNet tiny: config, checkpoint, exported .onnx and the export's report."""
    return _exported(tmp_path_factory, PARSING_CONFIG, 'parsing')


@pytest.fixture(scope='session')
def tiny_pose(tmp_path_factory):
    """HRNet tiny: config, checkpoint, exported .onnx and the export's report."""
    return _exported(tmp_path_factory, POSE_CONFIG, 'pose')
