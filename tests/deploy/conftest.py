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


def moving_offsets(checkpoint, seed=0):
    """The checkpoint with random offset/mask convs: a fresh deformable layer's are zero (it samples the regular
    grid), which would leave the offsets' layout unchecked by a parity check. The biases, uniform in (-1, 1), move
    each kernel tap by up to a pixel whatever the (small, random-weight) activations; the weights vary that."""
    import torch
    state = torch.load(checkpoint, map_location='cpu')
    generator = torch.Generator().manual_seed(seed)
    for name, value in state['state_dict'].items():
        if 'conv_offset.bias' in name:
            value.copy_(torch.rand(value.shape, generator=generator) * 2 - 1)
        elif 'conv_offset.weight' in name:
            value.copy_(torch.randn(value.shape, generator=generator) / value[0].numel() ** 0.5)
    torch.save(state, checkpoint)
    return checkpoint


def varied_labels(checkpoint, seed=0):
    """The checkpoint with random class layers (``conv_seg``, CE2P's ``decoder_seg``: weights of std 1, zero
    biases): a fresh head's small weights leave its biases to decide, one class on every pixel (class 2 on the real
    LIP images), which would make comparing two backends' labels vacuous."""
    import torch
    state = torch.load(checkpoint, map_location='cpu')
    generator = torch.Generator().manual_seed(seed)
    for name, value in state['state_dict'].items():
        if name.endswith(('conv_seg.weight', 'decoder_seg.weight')):
            value.copy_(torch.randn(value.shape, generator=generator))
        elif name.endswith(('conv_seg.bias', 'decoder_seg.bias')):
            value.zero_()
    torch.save(state, checkpoint)
    return checkpoint


def several_classes(labels, at_least=3, share=0.01):
    """At least ``at_least`` classes each on ``share`` of the pixels of these label maps: a comparison means
    something."""
    import numpy as np
    counts = np.bincount(np.concatenate([np.ravel(label) for label in labels]), minlength=20)
    return int((counts >= share * counts.sum()).sum()) >= at_least


def _exported(tmp_path_factory, config, name):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from lip_toolkit.deploy import export_model
    folder = tmp_path_factory.mktemp(name)
    checkpoint = initial_weights(config, folder / f'{name}.pth')
    if name == 'parsing':
        varied_labels(checkpoint)
    report = export_model(config, checkpoint, folder / f'{name}.onnx')
    return dict(config=config, checkpoint=checkpoint, onnx=folder / f'{name}.onnx', report=report)


@pytest.fixture(scope='session')
def tiny_parsing(tmp_path_factory):
    """CE2P-OCNet tiny (labels that vary over the image): config, checkpoint, exported .onnx and the export's
    report."""
    return _exported(tmp_path_factory, PARSING_CONFIG, 'parsing')


@pytest.fixture(scope='session')
def tiny_pose(tmp_path_factory):
    """HRNet tiny: config, checkpoint, exported .onnx and the export's report."""
    return _exported(tmp_path_factory, POSE_CONFIG, 'pose')


FIXED_SHAPE = (80, 64)  # not the config's 96x96, and not square: a swapped height and width would show


@pytest.fixture(scope='session')
def tiny_parsing_fixed(tiny_parsing):
    """The tiny CE2P-OCNet's checkpoint exported with ``shape=FIXED_SHAPE`` (fixed height and width)."""
    from lip_toolkit.deploy import export_model
    out = tiny_parsing['onnx'].with_name('parsing-fixed.onnx')
    report = export_model(tiny_parsing['config'], tiny_parsing['checkpoint'], out, shape=FIXED_SHAPE)
    return dict(tiny_parsing, onnx=out, report=report)
