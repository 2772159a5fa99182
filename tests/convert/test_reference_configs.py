"""The reference configs state each reference's inference settings, and ``evaluate`` follows their flip."""
import pytest

from lip_toolkit.core.paths import CONFIGS_DIR

REFERENCES = CONFIGS_DIR / 'references'
# config: (mean, std, bgr_to_rgb, keep_ratio, flip, warp) as read from each reference's evaluation code
EXPECTED = {
    'ce2p_r101_lip-473x473.py': ([123.675, 116.28, 103.53], [58.395, 57.12, 57.375], False, True, False, 'ce2p'),
    'schp_r101_lip-473x473.py': ([103.53, 116.28, 123.675], [57.375, 57.12, 58.395], False, True, True, 'schp'),
    'hrnetv2-w48_lip-473x473.py': ([123.675, 116.28, 103.53], [58.395, 57.12, 57.375], True, False, True, None),
}


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_reference_inference_settings(name):
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import config_input_size
    cfg = load_config(REFERENCES / name)
    mean, std, bgr_to_rgb, keep_ratio, flip, warp = EXPECTED[name]
    preprocessor = cfg.model.data_preprocessor
    assert (preprocessor.mean, preprocessor.std, preprocessor.bgr_to_rgb) == (mean, std, bgr_to_rgb)
    assert config_input_size(cfg) == ((473, 473), keep_ratio)
    assert cfg.model.test_cfg.flip is flip
    assert cfg.model.test_cfg.get('warp') == warp
    assert cfg.model.test_cfg.get('resize_in', 'logits') == ('exp' if name.startswith('hrnet') else 'logits')
    assert cfg.model.backbone.init_cfg is None  # every weight comes from the converted checkpoint
    if name.startswith(('ce2p', 'schp')):
        assert cfg.model.backbone.stem_channels == 128  # the reference's 64-64-128 deep stem
        assert cfg.model.backbone.dilations == (1, 1, 1, 2) and cfg.model.backbone.strides == (1, 2, 2, 1)
        assert cfg.model.decode_head.act_cfg == dict(type='LeakyReLU', negative_slope=0.01)
    else:
        assert cfg.model.backbone.type == 'HRNetFuseToSize'


@pytest.mark.parametrize('name, flip_option, expected', [
    ('schp_r101_lip-473x473.py', None, True),
    ('ce2p_r101_lip-473x473.py', None, False),
    ('schp_r101_lip-473x473.py', False, False),
    ('ce2p_r101_lip-473x473.py', True, True),
])
def test_evaluate_follows_the_config_flip_unless_told(monkeypatch, tmp_path, name, flip_option, expected):
    import lip_toolkit.parsing.inference as inference
    from lip_toolkit.evaluation import evaluate_model
    seen = {}

    def fake_evaluate_checkpoint(config, checkpoint, flip, **kwargs):
        seen['flip'] = flip
        return {'num_images': 0}

    monkeypatch.setattr(inference, 'evaluate_checkpoint', fake_evaluate_checkpoint)
    evaluate_model(str(REFERENCES / name), str(tmp_path / 'weights.pth'), flip=flip_option)
    assert seen['flip'] is expected


def test_reference_ensemble_names_the_reference_configs():
    from lip_toolkit.core.paths import resolve_config
    from lip_toolkit.core.runner import config_track, load_config
    from lip_toolkit.ensemble_config import load_ensemble
    spec = load_ensemble(REFERENCES / 'ensemble_schp-hrnetv2-ce2p_softmax_lip-473x473.py', check_files=False)
    assert spec.track == 'parsing' and spec.average == 'softmax' and spec.flip is True
    assert [member.name for member in spec.members] == ['SCHP', 'HRNetV2-W48', 'CE2P']
    for member in spec.members:
        assert resolve_config(member.config).parent == REFERENCES
        assert config_track(load_config(member.config)) == 'parsing'
