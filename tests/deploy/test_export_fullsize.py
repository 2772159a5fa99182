"""Every full-size pose and parsing config exports with its parity shown (slow: the real networks with random
weights, traced and run on CPU). The deformable-convolution ones export at opset 19 (ONNX's DeformConv), with
random offsets, and are refused in one line at opset 17.

The configs are every model config in the tree (``configs/**``), so a new one is covered without editing this
file; left out are ``_base_`` fragments, the tiny ``demo`` models (exported by the default tests) and ensembles
(several networks, no export of their own). Configs that differ only in training data build the same network
with the same test-time input: such a config is exported once per session, and its twins are checked to resolve
to the same ``cfg.model`` and test pipeline (compared here, not assumed) and to be accepted by the exported file's
metadata check.
"""
import json

import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import REPO_ROOT

from .conftest import initial_weights, moving_offsets

NOT_SINGLE_MODELS = ('_base_', 'demo', 'ensembles')  # configs/ folders without a full-size network of their own


def model_configs():
    """Every full-size model config, as a path relative to the repository."""
    configs = []
    for path in sorted((REPO_ROOT / 'configs').rglob('*.py')):
        relative = path.relative_to(REPO_ROOT / 'configs')
        if relative.parts[0] in NOT_SINGLE_MODELS or path.name.startswith('ensemble'):
            continue
        configs.append(str(path.relative_to(REPO_ROOT)))
    return configs


def network_and_input(cfg):
    """What an export depends on besides the weights: the resolved model dict and the test-time pipeline."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    return dict(model=cfg.model.to_dict(), test_pipeline=[dict(step) for step in pipeline])


def uses_deformable_convolution(cfg) -> bool:
    """The resolved model has a ``dcn`` layer config (mmcv's ``DCNv2`` or the torchvision-backed ``DCNv2TV``)."""
    def walk(value):
        if isinstance(value, dict):
            return bool(value.get('dcn')) or any(walk(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return any(walk(v) for v in value)
        return False
    return walk(cfg.model.to_dict())


EXPORTED = {}  # canonical network_and_input -> the first config of this session that exported it, and its facts


@pytest.mark.slow
@pytest.mark.parametrize('config', model_configs())
def test_full_size_config_exports_with_parity_or_is_refused(config, tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    from lip_toolkit.core.runner import config_track, load_config
    from lip_toolkit.deploy import export_model
    from lip_toolkit.deploy.metadata import check_fits_config
    cfg = load_config(config)
    track = config_track(cfg, config)
    identity = network_and_input(cfg)
    key = json.dumps(identity, sort_keys=True, default=str)
    out = tmp_path / 'model.onnx'

    if key in EXPORTED:  # a twin: the same network and test-time input as a config exported earlier
        first = EXPORTED[key]
        assert identity == first['identity'], f"{config} and {first['config']} resolve to different networks"
        check_fits_config(first['metadata'], cfg, track, first['config'])
        with capsys.disabled():
            print(f"\n{config}: same cfg.model and test pipeline as {first['config']} (compared): its export stands")
        return

    checkpoint = initial_weights(config, tmp_path / 'weights.pth')
    deformable = uses_deformable_convolution(cfg)
    if deformable:  # exported as ONNX's DeformConv (opset 19), with offsets that move the samples
        moving_offsets(checkpoint)
        with pytest.raises(LipToolkitError, match='--opset 19 or later') as error:
            export_model(config, checkpoint, out, opset=17)
        assert '\n' not in str(error.value)  # the one line the CLI prints
        assert sorted(p.name for p in tmp_path.iterdir()) == ['weights.pth']  # nothing written, no partial file

    report = export_model(config, checkpoint, out)
    parity = report['parity']
    with capsys.disabled():  # the figures, for the record (docs/deploy.md)
        print(f"\n{config}: opset {report['opset']}, dynamic H/W {report['dynamic_hw']}, {parity['checked']}: "
              f"max |diff| {parity['max_abs_diff']:.2g} of {parity['scale']:.3g}, argmax {100 * parity['argmax_agreement']:.3f} %"
              f" of {parity['positions']}, {report['seconds']} s")
    assert out.is_file() and parity['max_abs_diff'] <= parity['tolerance'] * parity['scale']
    assert report['opset'] == (19 if deformable else 17)
    assert parity['argmax_agreement'] >= 0.999
    from lip_toolkit.deploy import read_metadata
    metadata = read_metadata(out)
    check_fits_config(metadata, cfg, track, out)  # the file's metadata describes this config's preprocessing
    EXPORTED[key] = dict(config=config, identity=identity, metadata=metadata)
