"""Every shipped config reads, names its track's scope and our plugins, and only uses types that are registered."""
from pathlib import Path

import pytest

from lip_toolkit.core.paths import CONFIGS_DIR

CONFIGS = sorted(p for p in CONFIGS_DIR.rglob('*.py') if '_base_' not in p.parts)
PLUGINS = {'mmpose': 'lip_toolkit.pose.plugins', 'mmseg': 'lip_toolkit.parsing.plugins'}


def _types(node, found):
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            found.add(node['type'])
        for value in node.values():
            _types(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _types(value, found)
    return found


def _registries(scope):
    if scope == 'mmpose':
        import mmpose.registry as registry
    else:
        import mmseg.registry as registry
    return registry


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(CONFIGS_DIR)))
def test_config_is_complete_and_registered(path: Path):
    from mmengine.config import Config
    cfg = Config.fromfile(str(path))
    if cfg.get('ensemble') is not None or cfg.get('members') is not None:
        pytest.skip('ensemble description, checked by the ensemble tests')
    scope = cfg.get('default_scope')
    assert scope in PLUGINS, f'{path}: default_scope {scope!r}'
    assert PLUGINS[scope] in cfg.custom_imports['imports']
    # checkpoints as plain data whichever tool trains it (MMPose's / MMSeg's tools/train.py too): docs/checkpoints.md
    assert cfg.default_hooks.get('safe_checkpoint') == dict(type='SafeCheckpointHook'), f'{path}: default_hooks'
    import importlib
    importlib.import_module(PLUGINS[scope])
    registry = _registries(scope)
    tables = [getattr(registry, name) for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'KEYPOINT_CODECS',
                                                   'HOOKS', 'OPTIM_WRAPPERS', 'OPTIMIZERS', 'PARAM_SCHEDULERS',
                                                   'LOOPS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
                                                   'DATA_SAMPLERS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS',
                                                   'FUNCTIONS', 'TASK_UTILS', 'EVALUATOR')
              if hasattr(registry, name)]
    keys = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator',
            'default_hooks', 'custom_hooks', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'visualizer')
    unknown = []
    for name in sorted(_types({k: cfg.get(k) for k in keys}, set())):
        if name in ('Pretrained', 'Kaiming', 'Normal', 'Constant', 'Xavier', 'Uniform', 'TruncNormal'):
            continue
        if not any(table.get(name) is not None for table in tables):
            unknown.append(name)
    assert not unknown, f'{path}: types not in any {scope} registry: {unknown}'
