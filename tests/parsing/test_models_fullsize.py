"""The full-size parsing models of configs/parsing: parameter counts against the references, one forward and backward
pass on a CPU at a small input."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import lip_toolkit.parsing  # noqa: F401  (registration)

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'parsing'
init_default_scope('mmseg')


def conv(cin, cout, k=1, bias=False):
    return cin * cout * k * k + (cout if bias else 0)


def conv_bn(cin, cout, k=1):
    return conv(cin, cout, k) + 2 * cout


# Published ImageNet classifier sizes, minus the 1000-way fc (2048 x 1000 + 1000). The ResNet-101s use MMSeg's
# ResNetV1c deep stem (3x3 convs 32-32-64 in place of a 7x7 conv to 64), the others their own 7x7 stem.
FC = 2048 * 1000 + 1000
V1C_STEM_DELTA = conv_bn(3, 32, 3) + conv_bn(32, 32, 3) + conv_bn(32, 64, 3) - conv_bn(3, 64, 7)
RESNET101 = 44_549_160  # torchvision resnet101
SE_RESNET152 = 66.82e6  # Hu et al., SENet
SCNET101 = 44.57e6  # Liu et al., SCNet (self-calibrated convs keep ResNet's parameter budget)
# DCNv2 on the 3x3 conv of every block of stages 2-4: an offset/mask conv Cin -> 27, 3x3, with bias.
DCN_OFFSETS = sum(n * conv(c, 27, 3, bias=True) for n, c in ((4, 128), (23, 256), (3, 512)))
HRNETV2_W48 = 65.8e6  # HRNet-Semantic-Segmentation README, LIP model (backbone and head)


def ce2p_aspoc_head_params(num_classes=20):
    """CE2P head with OCNet's ASP-OC context, counted from the references' layer lists."""
    object_context = conv_bn(256, 128) + conv(256, 256, bias=True) + conv(256, 256, bias=True)
    aspoc = (conv_bn(2048, 512, 3) + conv_bn(512, 256, 3) + object_context + conv_bn(256, 256)
             + conv_bn(512, 256) + 3 * conv_bn(512, 256, 3) + conv_bn(5 * 256, 512))
    decoder = (conv_bn(512, 256) + conv_bn(256, 48) + conv_bn(304, 256) + conv_bn(256, 256)
               + conv(256, num_classes, bias=True))
    edge = (conv_bn(256, 256) + conv_bn(512, 256) + conv_bn(1024, 256) + conv(256, 2, 3, bias=True)
            + conv(6, 2, bias=True))
    fusion = conv_bn(1024, 256) + conv(256, num_classes, bias=True)
    return aspoc + decoder + edge + fusion


def build(config_name):
    cfg = Config.fromfile(str(next(CONFIGS.rglob(config_name))))
    return MODELS.build(cfg.model)


def count(module):
    return sum(p.numel() for p in module.parameters())


def forward_backward(model, size=64):
    model.train()
    out = model(torch.randn(2, 3, size, size), mode='tensor')
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    sum(o.float().mean() for o in outputs).backward()
    assert all(p.grad is not None for p in model.decode_head.parameters() if p.requires_grad)
    return outputs


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def test_ce2p_psp_head_matches_the_reference_layer_list():
    cfg = Config.fromfile(str(CONFIGS.parent / '_base_' / 'parsing_ce2p_r101-d16.py'))
    head = MODELS.build(cfg.model.decode_head)
    psp = 4 * conv_bn(2048, 512) + conv_bn(2048 + 4 * 512, 512, 3)
    expected = ce2p_aspoc_head_params() - (
        conv_bn(2048, 512, 3) + conv_bn(512, 256, 3) + conv_bn(256, 128) + 2 * conv(256, 256, bias=True)
        + conv_bn(256, 256) + conv_bn(512, 256) + 3 * conv_bn(512, 256, 3) + conv_bn(5 * 256, 512)) + psp
    assert count(head) == expected


def test_ce2p_ocnet_r101():
    model = build('ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py')
    assert count(model.backbone) == RESNET101 - FC + V1C_STEM_DELTA
    assert count(model.decode_head) == ce2p_aspoc_head_params()
    seg1, seg2, edge = forward_backward(model)
    assert seg1.shape == seg2.shape == (2, 20, 16, 16) and edge.shape == (2, 2, 16, 16)


def test_ce2p_ocnet_deformable_r101():
    model = build('ce2p-aspoc_dcn-r101-d16_4xb10-150e_lip-trainval-mhp-576x576.py')
    from lip_toolkit.parsing.models.deform_conv import ModulatedDeformConv2dTV
    assert sum(isinstance(m, ModulatedDeformConv2dTV) for m in model.backbone.modules()) == 4 + 23 + 3
    assert count(model.backbone) == RESNET101 - FC + V1C_STEM_DELTA + DCN_OFFSETS
    forward_backward(model)


def test_hrnetv2_w48():
    model = build('fcn_hrnetv2-w48_4xb10-150e_lip-480x480.py')
    assert count(model) == pytest.approx(HRNETV2_W48, rel=0.005)
    (logits,) = forward_backward(model)
    assert logits.shape == (2, 20, 16, 16)


@pytest.mark.slow
def test_ce2p_ocnet_se_resnet152():
    model = build('ce2p-aspoc_seresnet152-d16_4xb10-150e_lip-trainval-mhp-576x576.py')
    assert type(model.backbone).__name__ == 'SEResNet'  # MMPose's, used across scopes
    assert count(model.backbone) == pytest.approx(SE_RESNET152 - FC, rel=0.002)
    assert count(model.decode_head) == ce2p_aspoc_head_params()
    forward_backward(model)


@pytest.mark.slow
def test_ce2p_ocnet_scnet101():
    model = build('ce2p-aspoc_scnet101-d16_4xb10-150e_lip-trainval-mhp-576x576.py')
    assert count(model.backbone) == pytest.approx(SCNET101 - FC, rel=0.002)
    forward_backward(model)
