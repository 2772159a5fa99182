"""MMPose zoo checkpoints: an MPII file for the zero-shot LIP config, a COCO file as backbone initialisation."""
import pytest
import torch

from lip_toolkit.convert import REFERENCES, convert
from lip_toolkit.convert.common import ConversionMismatch, apply_spec, target_shapes_of
from lip_toolkit.core.paths import CONFIGS_DIR

ZERO_SHOT = CONFIGS_DIR / 'references' / 'hrnet-w32_mpii-256x256_zero-shot_lip.py'
COCO_INIT = CONFIGS_DIR / 'references' / 'hrnet-w32_coco-init_lip-384x288.py'


@pytest.fixture(scope='module')
def lip_hrnet_w32():
    """The LIP HRNet-W32 of the COCO-init config, built with its init_cfg (same network as the zero-shot one)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from lip_toolkit.registration import register_all_modules
    register_all_modules(parsing=False)
    init_default_scope('mmpose')
    cfg = Config.fromfile(str(COCO_INIT))
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint=cfg.coco_checkpoint, prefix='backbone.')
    return cfg, MODELS.build(cfg.model)


def _mmpose_0x_file(path, model, joints=16):
    """An MMPose 0.x-style checkpoint (``keypoint_head.*``), as MMPose 1.x's MPII config downloads."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, value in model.state_dict().items():
        value = torch.rand(value.shape, generator=generator) if value.dtype.is_floating_point else value
        if key.startswith('head.final_layer') and joints != 16:
            value = torch.rand((joints, ) + tuple(value.shape[1:]), generator=generator)
        state[key.replace('head.', 'keypoint_head.', 1) if key.startswith('head.') else key] = value
    torch.save({'meta': {'epoch': 210, 'mmpose_version': '0.8.0'}, 'state_dict': state}, path)
    return state


def test_mpii_checkpoint_loads_whole_into_the_zero_shot_config(lip_hrnet_w32, tmp_path):
    from lip_toolkit.core.checkpoint import load_checkpoint
    model = lip_hrnet_w32[1]
    src = tmp_path / 'hrnet_w32_mpii_256x256-6c4f923f_20200812.pth'
    state = _mmpose_0x_file(src, model)
    result = convert('mmpose', src, tmp_path / 'hrnet_mpii.pth')  # into the zero-shot config's model
    assert result['config'].endswith('hrnet-w32_mpii-256x256_zero-shot_lip.py') and result['filled'] == 0
    load_checkpoint(model, tmp_path / 'hrnet_mpii.pth', strict=True)
    assert torch.equal(model.head.final_layer.weight, state['keypoint_head.final_layer.weight'])
    assert model.head.final_layer.weight.shape[0] == 16


def test_coco_head_does_not_fit_lip_and_is_refused(lip_hrnet_w32, tmp_path):
    model = lip_hrnet_w32[1]
    src = tmp_path / 'coco.pth'
    state = _mmpose_0x_file(src, model, joints=17)
    with pytest.raises(ConversionMismatch, match=r'2 shapes differ \(keypoint_head\.final_layer\.weight '
                                                 r'\(17, 32, 1, 1\) -> head\.final_layer\.weight'):
        apply_spec(state, REFERENCES['mmpose'], target_shapes_of(model), path=src)


def test_coco_checkpoint_initialises_the_backbone_only(lip_hrnet_w32, tmp_path):
    """init_cfg Pretrained(prefix='backbone.') on a 17-joint COCO file: backbone copied, head left alone."""
    from lip_toolkit.core.checkpoint import install_mmengine_checkpoint_loader
    cfg, model = lip_hrnet_w32
    src = tmp_path / 'td-hm_hrnet-w32_8xb64-210e_coco-384x288.pth'
    state = _mmpose_0x_file(src, model, joints=17)
    head_before = model.head.final_layer.weight.detach().clone()
    install_mmengine_checkpoint_loader()  # what the toolkit's runner does: the file goes through safe_load
    model.backbone.init_cfg = dict(cfg.model.backbone.init_cfg, checkpoint=str(src))
    model.backbone.init_weights()
    assert torch.equal(model.backbone.stage4[2].fuse_layers[0][3][0].weight,
                       state['backbone.stage4.2.fuse_layers.0.3.0.weight'])
    assert torch.equal(model.head.final_layer.weight, head_before)  # LIP's 16-joint head is not touched


@pytest.mark.slow  # HRNet-W32 on 24 images with flip: about 3 minutes on a shared CPU
def test_converted_mpii_checkpoint_evaluates_on_lip(lip_hrnet_w32, synthetic_lip, tmp_path):
    """convert mmpose -> evaluate with the zero-shot config: LIP CSV written, PCKh computed."""
    import json

    from lip_toolkit.cli import main
    src = tmp_path / 'hrnet_w32_mpii.pth'
    _mmpose_0x_file(src, lip_hrnet_w32[1])
    assert main(['-q', 'convert', 'mmpose', str(src), str(tmp_path / 'mpii.pth')]) == 0
    assert main(['-q', 'evaluate', str(ZERO_SHOT), str(tmp_path / 'mpii.pth'), '--data-root', str(synthetic_lip),
                 '--device', 'cpu', '--out', str(tmp_path / 'pred.csv'), '--json', str(tmp_path / 'scores.json')]) == 0
    scores = json.loads((tmp_path / 'scores.json').read_text())
    assert (tmp_path / 'pred.csv').is_file() and scores['num_images'] == 24 and 0 <= scores['PCKh'] <= 100
