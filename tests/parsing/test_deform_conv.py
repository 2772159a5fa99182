"""DCNv2 on torchvision (``DCNv2TV``) against mmcv's ``ModulatedDeformConv2dPack`` (``DCNv2``), the reference
implementation, on the same weights: outputs, gradients and checkpoint keys."""
import pytest
import torch
from mmcv.cnn import build_conv_layer

from lip_toolkit.parsing.models.deform_conv import ModulatedDeformConv2dTV

mmcv_ops = pytest.importorskip('mmcv.ops')  # the reference runs on CPU with mmcv's compiled CPU ops

CASES = [  # in, out, kernel, stride, padding, dilation, groups, deform_groups, bias
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=1, padding=1, dilation=1, groups=1, deform_groups=1,
         bias=False),
    dict(in_channels=8, out_channels=4, kernel_size=3, stride=2, padding=1, dilation=1, groups=1, deform_groups=2,
         bias=True),
    dict(in_channels=8, out_channels=8, kernel_size=3, stride=1, padding=2, dilation=2, groups=2, deform_groups=1,
         bias=False),
    dict(in_channels=6, out_channels=6, kernel_size=3, stride=2, padding=3, dilation=3, groups=3, deform_groups=3,
         bias=True),
    dict(in_channels=4, out_channels=2, kernel_size=(3, 1), stride=1, padding=(1, 0), dilation=1, groups=1,
         deform_groups=1, bias=True),
]


def _pair_of_layers(case, seed=0):
    """mmcv's layer with random weights everywhere (offset/mask conv included), and ours loaded from its
    state dict."""
    torch.manual_seed(seed)
    reference = mmcv_ops.ModulatedDeformConv2dPack(**case).double()
    with torch.no_grad():
        for parameter in reference.parameters():
            # offsets of a few pixels, fractional, so that bilinear sampling and the border both matter
            parameter.uniform_(-1.0, 1.0)
    ours = ModulatedDeformConv2dTV(**case).double()
    ours.load_state_dict(reference.state_dict(), strict=True)
    return reference, ours


@pytest.mark.parametrize('case', CASES, ids=lambda c: f"s{c['stride']}d{c['dilation']}g{c['groups']}"
                                                      f"dg{c['deform_groups']}k{c['kernel_size']}")
def test_forward_and_backward_equal_mmcv(case):
    reference, ours = _pair_of_layers(case)
    torch.manual_seed(1)
    x = torch.randn(2, case['in_channels'], 9, 11, dtype=torch.float64)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out_ours = reference(x_ref), ours(x_ours)
    assert out_ref.shape == out_ours.shape
    # the offsets really move the samples: a plain conv with the same weights gives another answer
    plain = torch.nn.functional.conv2d(x, reference.weight, reference.bias, reference.stride, reference.padding,
                                       reference.dilation, reference.groups)
    assert (plain - out_ref).abs().max() > 0.1
    torch.testing.assert_close(out_ours, out_ref, rtol=1e-9, atol=1e-9)

    upstream = torch.randn_like(out_ref)
    (out_ref * upstream).sum().backward()
    (out_ours * upstream).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=1e-8, atol=1e-8)
    ours_params = dict(ours.named_parameters())
    for name, parameter in reference.named_parameters():
        torch.testing.assert_close(ours_params[name].grad, parameter.grad, rtol=1e-8, atol=1e-8, msg=name)


def test_same_checkpoint_keys_and_shapes():
    case = CASES[1]
    reference = mmcv_ops.ModulatedDeformConv2dPack(**case)
    ours = ModulatedDeformConv2dTV(**case)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    # and the other way: a checkpoint of ours loads into mmcv's layer
    reference.load_state_dict(ours.state_dict(), strict=True)


def test_fresh_layer_initialised_like_mmcv():
    """Zero offset/mask conv: a fresh layer is the plain conv on the regular grid, scaled by sigmoid(0) = 0.5."""
    layer = ModulatedDeformConv2dTV(4, 6, 3, padding=1, bias=True).double()
    x = torch.randn(1, 4, 7, 7, dtype=torch.float64)
    expected = 0.5 * torch.nn.functional.conv2d(x, layer.weight, None, padding=1) + layer.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(layer(x), expected)


def test_built_through_mmcv_conv_registry_from_mmseg_scope():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        layer = build_conv_layer(dict(type='DCNv2TV', deform_groups=1), 8, 8, 3, stride=2, padding=1, bias=False)
    assert isinstance(layer, ModulatedDeformConv2dTV)
    assert layer.stride == (2, 2) and layer.bias is None


def test_bad_groups_is_a_clear_error():
    with pytest.raises(ValueError, match='deform_groups'):
        ModulatedDeformConv2dTV(6, 6, 3, deform_groups=4)


def test_runs_under_mixed_precision_in_float32():
    """Under autocast (bfloat16 here, on CPU) the deformable op itself runs in float32, as torchvision's CUDA
    autocast rule runs it; the output comes back in the input's type and matches float32 to bfloat16 rounding."""
    torch.manual_seed(0)
    layer = ModulatedDeformConv2dTV(8, 8, 3, padding=1, bias=True)
    with torch.no_grad():
        layer.conv_offset.weight.uniform_(-0.3, 0.3)
    x = torch.randn(2, 8, 12, 12)
    expected = layer(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = layer(x.bfloat16())
    assert low.dtype is torch.bfloat16
    torch.testing.assert_close(low.float(), expected, rtol=0.05, atol=0.05)
    low.float().sum().backward()
    assert torch.isfinite(layer.weight.grad).all() and layer.conv_offset.weight.grad.abs().sum() > 0
