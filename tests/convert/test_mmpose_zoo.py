"""MMPose zoo checkpoints: an MPII file for the zero-shot LIP config, a COCO file as backbone initialisation."""
import pytest
import torch

from lip_toolkit.convert import REFERENCES, convert, hrnet_seg
from lip_toolkit.convert.common import ConversionMismatch, apply_spec, target_shapes_of
from lip_toolkit.core.paths import CONFIGS_DIR

from ._reference_forward import BATCH_NORM, calibrate, classes_alive, mmpose_topdown_hrnet_forward, \
    random_state_dict
from .test_hrnet_seg import SMALL_EXTRA

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


def mmpose_0x_topdown_hrnet_keys(extra, joints=16):
    """MMPose 0.x ``TopDown`` HRNet state dict as ``{key: shape}`` without prefixes (``backbone.`` /
    ``keypoint_head.`` are added by the caller): HRNet's modules are HRNet-Seg's (same names and shapes, BN
    counters kept) minus its ``last_layer`` and, as stage 4 has ``multiscale_output=False``, minus the fusion
    into branches 1-3 of stage 4's last module; the head is one 1x1 conv on branch 0."""
    last = extra['stage4']['num_modules'] - 1
    table = {key: shape for key, shape in hrnet_seg.reference_keys(20, extra, counters=True).items()
             if not key.startswith('last_layer.')
             and not (key.startswith(f'stage4.{last}.fuse_layers.') and key.split('.')[3] != '0')}
    table['keypoint_head.final_layer.weight'] = (joints, extra['stage2']['num_channels'][0], 1, 1)
    table['keypoint_head.final_layer.bias'] = (joints, )
    return table


def test_converted_mpii_file_computes_mmpose_0x_topdown_hrnet(tmp_path):
    """A small MMPose 0.x TopDown HRNet file (reference names, calibrated BN statistics, signed BN weights)
    -> ``convert mmpose`` -> the zero-shot config's model: heatmaps equal the 0.x arithmetic written out."""
    from lip_toolkit.core.checkpoint import load_checkpoint
    from lip_toolkit.convert.common import build_target_model
    options = {'model.backbone.extra': SMALL_EXTRA, 'model.head.in_channels': 8}
    extra = dict(SMALL_EXTRA, stage4=dict(SMALL_EXTRA['stage4'], multiscale_output=False))
    generator = torch.Generator().manual_seed(3)
    source = random_state_dict(mmpose_0x_topdown_hrnet_keys(extra), seed=4)
    calibrate(source, lambda sd, x, norm: mmpose_topdown_hrnet_forward(sd, x, extra, norm=norm),
              torch.randn(4, 3, 64, 64, generator=generator, dtype=torch.float64), BATCH_NORM,
              classifiers=[('keypoint_head.final_layer.bias', None)])
    src = tmp_path / 'hrnet_w32_mpii_256x256-6c4f923f_20200812.pth'
    torch.save({'meta': {'mmpose_version': '0.8.0'}, 'state_dict': {
        (key if key.startswith('keypoint_head.') else f'backbone.{key}'): value.float()
        for key, value in source.items()}}, src)
    result = convert('mmpose', src, tmp_path / 'hrnet_mpii.pth', cfg_options=options)
    assert result['filled'] == 0 and result['variant'] is None
    model = build_target_model(result['config'], options)
    load_checkpoint(model, tmp_path / 'hrnet_mpii.pth', strict=True)
    model = model.double().eval()
    image = torch.randn(2, 3, 64, 64, generator=generator, dtype=torch.float64)
    source = {key: value.float().double() for key, value in source.items()}  # the file holds float32
    with torch.no_grad():
        expected = mmpose_topdown_hrnet_forward(source, image, extra)
        actual = model.head.forward(model.backbone(image))
    assert actual.shape == expected.shape == (2, 16, 16, 16)
    assert classes_alive(expected) >= 10  # joints whose heatmap is the highest somewhere
    torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-9 * float(expected.abs().max()))


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
