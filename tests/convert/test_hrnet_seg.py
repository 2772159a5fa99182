"""HRNet-Seg LIP: reference-named state dicts -> MMSeg HRNet + FCN head, strict load, the reference's outputs.

The default suite uses a narrow, shallow HRNet (the reference's ``STAGE1-4`` settings take any widths and
depths); the W48 run is the ``slow`` test.
"""
import pytest
import torch
import torch.nn.functional as F

from lip_toolkit.convert import REFERENCES, hrnet_seg
from lip_toolkit.convert.common import ConversionMismatch, apply_spec, build_target_model, target_shapes_of

from ._reference_forward import bn, hrnet_seg_forward, random_state_dict

SMALL_EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(16, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(8, 16)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
    stage4=dict(num_modules=2, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64)),
)
SMALL_OPTIONS = {'model.backbone.extra': SMALL_EXTRA, 'model.decode_head.in_channels': [8, 16, 32, 64],
                 'model.decode_head.channels': 120}


@pytest.fixture(scope='module')
def small_hrnet():
    return build_target_model(REFERENCES['hrnet-seg'].default_config, SMALL_OPTIONS).double().eval()


def _convert_into(model, counters=True, seed=0):
    table = hrnet_seg.reference_keys(20, SMALL_EXTRA, counters=counters)
    source = {f'model.{key}': value for key, value in random_state_dict(table, seed).items()}
    converted, filled = apply_spec(source, REFERENCES['hrnet-seg'], target_shapes_of(model))
    model.load_state_dict(converted, strict=True)
    return {key[len('model.'):]: value for key, value in source.items()}, filled


def test_reference_table_is_the_released_w48_network():
    table = hrnet_seg.reference_keys()
    parameters = sum(torch.Size(shape).numel() for key, shape in table.items()
                     if not key.endswith(('running_mean', 'running_var', 'num_batches_tracked')))
    assert 65.8e6 <= parameters < 65.9e6  # the README's "#Params 65.8M" for HRNetV2-W48 on LIP (65.86M)
    assert table['last_layer.0.weight'] == (720, 720, 1, 1) and table['last_layer.3.weight'] == (20, 720, 1, 1)
    assert 'transition3.3.0.0.weight' in table and 'stage4.2.fuse_layers.3.0.2.0.weight' in table


@pytest.mark.parametrize('counters', [True, False], ids=['torch>=0.4.1', 'torch-0.4.0'])
def test_converted_model_computes_the_reference_network(small_hrnet, counters):
    """Odd input (65x81): branch sizes 17/9/5/3, where only a direct resize matches the reference's fusion."""
    source, filled = _convert_into(small_hrnet, counters)
    assert bool(filled) == (not counters)
    image = torch.randn(2, 3, 65, 81, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        expected = hrnet_seg_forward(source, image, SMALL_EXTRA)
        actual = small_hrnet.decode_head.forward(small_hrnet.backbone(image))
    assert actual.shape == expected.shape == (2, 20, 17, 21)
    torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-9 * float(expected.abs().max()))


def test_head_conv_bias_is_folded_exactly(small_hrnet):
    """conv (with bias) -> BN -> ReLU computed directly == the toolkit's bias-free ConvModule."""
    source, _ = _convert_into(small_hrnet, seed=5)
    features = torch.randn(1, 120, 4, 6, dtype=torch.float64)
    with torch.no_grad():
        direct = F.relu(bn(F.conv2d(features, source['last_layer.0.weight'], source['last_layer.0.bias']),
                           source, 'last_layer.1'))
        toolkit = small_hrnet.decode_head.convs[0](features)
    assert small_hrnet.decode_head.convs[0].conv.bias is None
    torch.testing.assert_close(toolkit, direct, rtol=1e-12, atol=1e-12)


def test_mmseg_hrnet_fusion_differs_on_odd_sizes_and_agrees_on_even_ones(small_hrnet):
    """Why the reference config uses HRNetFuseToSize: MMSeg's HRNet is only equal when sizes halve exactly."""
    from mmseg.models.backbones import HRNet
    plain = HRNet(extra=SMALL_EXTRA, norm_cfg=dict(type='BN')).double()
    plain.eval()  # MMSeg's HRNet.train() returns None, so no chaining
    plain.load_state_dict(small_hrnet.backbone.state_dict(), strict=True)
    with torch.no_grad():
        odd = torch.randn(1, 3, 65, 65, dtype=torch.float64)
        even = torch.randn(1, 3, 64, 96, dtype=torch.float64)
        assert not torch.allclose(plain(odd)[0], small_hrnet.backbone(odd)[0])
        for mine, theirs in zip(small_hrnet.backbone(even), plain(even)):
            torch.testing.assert_close(mine, theirs)


def test_a_missing_or_extra_key_is_refused(small_hrnet):
    table = hrnet_seg.reference_keys(20, SMALL_EXTRA)
    source = {f'model.{key}': torch.ones(shape) for key, shape in table.items()}
    target = target_shapes_of(small_hrnet)
    missing = dict(source)
    missing.pop('model.stage4.1.fuse_layers.0.3.1.weight')
    with pytest.raises(ConversionMismatch, match=r'1 toolkit weights get no value '
                                                 r'\(backbone\.stage4\.1\.fuse_layers\.0\.3\.1\.weight\)'):
        apply_spec(missing, REFERENCES['hrnet-seg'], target)
    extra = dict(source, **{'loss.criterion.weight': torch.ones(20)})
    with pytest.raises(ConversionMismatch, match=r'1 HRNet-Seg keys have no place .*\(loss\.criterion\.weight\)'):
        apply_spec(extra, REFERENCES['hrnet-seg'], target)


@pytest.mark.slow
def test_full_w48_file_converts_loads_and_matches(tmp_path):
    from lip_toolkit.convert import convert
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    source = random_state_dict(hrnet_seg.reference_keys(), dtype=torch.float32)
    src = tmp_path / 'hrnet_lip.pth'
    torch.save({f'model.{k}': v for k, v in source.items()}, src)
    result = convert('hrnet-seg', src, tmp_path / 'toolkit.pth')
    model = build_parsing_model(load_config(result['config']), tmp_path / 'toolkit.pth', device='cpu')
    image = torch.randn(1, 3, 121, 89)
    with torch.no_grad():
        expected = hrnet_seg_forward(source, image, hrnet_seg.W48_EXTRA)
        actual = model.decode_head.forward(model.backbone(image))
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))
