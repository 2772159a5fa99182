"""No model of ours needs an mmcv compiled op (so an mmcv built with CPU ops only works beside a CUDA torch).

Checks: no config names a layer type that ``mmcv.ops`` registers (those run mmcv's own compiled kernels); every
shipped config's model, built, holds no module from ``mmcv.ops`` (slow: reading every config takes a minute; the
deformable configs are built in the default run); and a training step plus an inference of the deformable model
call nothing in mmcv's compiled extension (``mmcv._ext``, which every ``mmcv.ops`` layer calls into), every
function of which is trapped here.
"""
import re
import importlib
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from lip_toolkit.core.paths import CONFIGS_DIR

CONFIGS = sorted(p for p in CONFIGS_DIR.rglob('*.py') if '_base_' not in p.parts)
TINY_DCN = CONFIGS_DIR / 'demo' / 'parsing_ce2p-aspoc_dcn-r50-tiny_30e_synthetic-96x96.py'
FULL_DCN = CONFIGS_DIR / 'parsing' / 'ce2p' / 'ce2p-aspoc_dcn-r101-d16_4xb10-150e_lip-trainval-mhp-576x576.py'


def _mmcv_op_layer_types():
    """Names under which ``mmcv.ops`` registers layers in mmengine's model registry ('DCNv2', 'DCN', ...)."""
    import mmcv.ops  # noqa: F401
    from mmengine.registry import MODELS
    return {name for name, cls in MODELS.module_dict.items() if cls.__module__.startswith('mmcv.ops')}


def test_no_config_names_an_mmcv_op_layer():
    op_types = _mmcv_op_layer_types()
    assert {'DCNv2', 'DCN'} <= op_types  # the list is the real one
    named = {}
    for path in sorted(CONFIGS_DIR.rglob('*.py')):
        for name in re.findall(r"type=['\"]([\w.]+)['\"]", path.read_text()):
            if name.split('.')[-1] in op_types:
                named.setdefault(str(path.relative_to(CONFIGS_DIR)), []).append(name)
    assert not named, f'configs naming mmcv compiled-op layers: {named}'


def _build_model(cfg, meta=True):
    for module in cfg.custom_imports['imports']:
        importlib.import_module(module)
    registry = importlib.import_module(f'{cfg.default_scope}.registry')
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        if not meta:
            return registry.MODELS.build(cfg.model)
        try:
            with torch.device('meta'):  # no memory, no initialisation: seconds for all configs
                return registry.MODELS.build(cfg.model)
        except RuntimeError:  # a model that reads a tensor's value while it is built (PoseFix)
            return registry.MODELS.build(cfg.model)


def _distinct_models():
    """(config names, config) per distinct ``model`` dict: many configs differ in data only."""
    seen = {}
    for path in CONFIGS:
        cfg = Config.fromfile(str(path))
        if cfg.get('model') is None:  # ensemble descriptions
            continue
        key = (cfg.default_scope, repr(cfg.model.to_dict()))
        seen.setdefault(key, ([], cfg))[0].append(str(path.relative_to(CONFIGS_DIR)))
    return list(seen.values())


def _mmcv_op_modules(model):
    return sorted({f'{type(m).__module__}.{type(m).__name__}' for m in model.modules()
                   if type(m).__module__.startswith('mmcv.ops')})


@pytest.mark.parametrize('path', [TINY_DCN, FULL_DCN], ids=lambda p: p.stem)
def test_deformable_configs_build_torchvision_dcn_only(path):
    model = _build_model(Config.fromfile(str(path)))
    assert _mmcv_op_modules(model) == []
    deformable = [m for m in model.backbone.modules() if type(m).__name__ == 'ModulatedDeformConv2dTV']
    assert len(deformable) == (13 if path == TINY_DCN else 30)  # the 3x3 conv of every block of stages 2-4


@pytest.mark.slow
def test_no_config_builds_an_mmcv_op_layer():
    models = _distinct_models()
    assert len(models) >= 10  # the audit really walked the zoo (pose, parsing, demo, references)
    found = {}
    deformable = 0
    for names, cfg in models:
        model = _build_model(cfg)
        ops = _mmcv_op_modules(model)
        if ops:
            found[names[0]] = ops
        deformable += sum(type(m).__name__ == 'ModulatedDeformConv2dTV' for m in model.modules())
    assert not found, f'configs whose models need mmcv compiled ops: {found}'
    # the DeResNet-101 config and its tiny variant hold 30 and 13 deformable blocks (stages 2-4)
    assert deformable == 30 + 13


@pytest.fixture
def trapped_mmcv_extension(monkeypatch):
    """Every function of mmcv's compiled extension replaced by one that records its name and fails."""
    ext = importlib.import_module('mmcv._ext')
    called = []

    def trap(name):
        def trapped(*args, **kwargs):
            called.append(name)
            raise AssertionError(f'mmcv compiled op called: {name}')
        return trapped

    for name in dir(ext):
        if not name.startswith('_') and callable(getattr(ext, name)):
            monkeypatch.setattr(ext, name, trap(name))
    return called


def test_deformable_model_trains_and_predicts_without_mmcv_compiled_ops(trapped_mmcv_extension, parsing_loss_batch,
                                                                       one_thread):
    import mmcv.ops
    cfg = Config.fromfile(str(TINY_DCN))
    model = _build_model(cfg, meta=False)
    # the trap works: mmcv's own DCNv2 trips it
    with pytest.raises(AssertionError, match='modulated_deform_conv_forward'):
        mmcv.ops.ModulatedDeformConv2dPack(4, 4, 3, padding=1)(torch.randn(1, 4, 8, 8))
    del trapped_mmcv_extension[:]

    images, samples = parsing_loss_batch
    model.train()
    losses = model(images, samples, mode='loss')
    model.parse_losses(losses)[0].backward()  # the host's reduction, as training applies it
    model.eval()
    with torch.no_grad():
        model(images, samples, mode='predict')
    assert trapped_mmcv_extension == []
