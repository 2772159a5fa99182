"""HRNet-Seg LIP: reference-named state dicts -> MMSeg HRNet + FCN head, strict load, the reference's outputs.

Each released network is checked against the reference arithmetic written out in ``_reference_forward.py``:
``inplace-abn`` (master's and the HRNet-OCR branch's files: ``InPlaceABNSync(activation='none')``, scale
``|w| + 1e-5``, no ``num_batches_tracked``) and ``bn`` (pytorch-v1.1's file: ``nn.BatchNorm2d``). The default
suite uses a narrow, shallow HRNet (the reference's ``STAGE1-4`` settings take any widths and depths); the W48
run is the ``slow`` test.
"""
import pytest
import torch
import torch.nn.functional as F

from lip_toolkit.convert import REFERENCES, hrnet_seg, resolve_variant
from lip_toolkit.convert.common import ConversionMismatch, apply_spec, build_target_model, target_shapes_of
from lip_toolkit.core.errors import LipToolkitError

from ._reference_forward import Norms, calibrate, classes_alive, hrnet_seg_forward, random_state_dict

SMALL_EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(16, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(8, 16)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
    stage4=dict(num_modules=2, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64)),
)
SMALL_OPTIONS = {'model.backbone.extra': SMALL_EXTRA, 'model.decode_head.in_channels': [8, 16, 32, 64],
                 'model.decode_head.channels': 120}
VARIANTS = ('inplace-abn', 'bn')
SPEC = REFERENCES['hrnet-seg']


@pytest.fixture(scope='module')
def small_hrnet():
    return build_target_model(SPEC.default_config, SMALL_OPTIONS).double().eval()


def _image(seed, height=65, width=81, batch=2):
    return torch.randn(batch, 3, height, width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def reference_weights(variant, seed=0, extra=SMALL_EXTRA, dtype=torch.float64, size=(65, 81)):
    """A reference state dict as the ``variant``'s code saves it (counters only under BatchNorm), with signed
    norm weights and running statistics calibrated through that variant's own forward."""
    table = hrnet_seg.reference_keys(20, extra, counters=variant == 'bn')
    source = random_state_dict(table, seed, dtype)
    calib = _image(100 + seed, *size, batch=4).to(dtype)
    return calibrate(source, lambda sd, x, norm: hrnet_seg_forward(sd, x, extra, norm=norm), calib, variant,
                     classifiers=[('last_layer.3.bias', None)])


def _convert_into(model, source, variant=None):
    prefixed = {f'model.{key}': value for key, value in source.items()}
    converted, filled = apply_spec(prefixed, SPEC, target_shapes_of(model), variant=variant)
    model.load_state_dict(converted, strict=True)
    return filled


def test_reference_table_is_the_released_w48_network():
    table = hrnet_seg.reference_keys()
    parameters = sum(torch.Size(shape).numel() for key, shape in table.items()
                     if not key.endswith(('running_mean', 'running_var', 'num_batches_tracked')))
    assert 65.8e6 <= parameters < 65.9e6  # the README's "#Params 65.8M" for HRNetV2-W48 on LIP (65.86M)
    assert table['last_layer.0.weight'] == (720, 720, 1, 1) and table['last_layer.3.weight'] == (20, 720, 1, 1)
    assert 'transition3.3.0.0.weight' in table and 'stage4.2.fuse_layers.3.0.2.0.weight' in table


@pytest.mark.parametrize('variant', VARIANTS)
def test_converted_model_computes_the_released_network(small_hrnet, variant):
    """Odd input (65x81): branch sizes 17/9/5/3, where only a direct resize matches the reference's fusion.

    The file's counters tell the variant; the toolkit model equals that variant's reference arithmetic."""
    source = reference_weights(variant)
    filled = _convert_into(small_hrnet, source)
    assert bool(filled) == (variant == 'inplace-abn')  # InPlaceABN keeps no num_batches_tracked
    image = _image(2)
    with torch.no_grad():
        expected = hrnet_seg_forward(source, image, SMALL_EXTRA, kind=variant)
        other = hrnet_seg_forward(source, image, SMALL_EXTRA, kind=({*VARIANTS} - {variant}).pop())
        actual = small_hrnet.decode_head.forward(small_hrnet.backbone(image))
    assert actual.shape == expected.shape == (2, 20, 17, 21)
    # The weights are not trivial: many classes win somewhere, and the two norm readings disagree on most pixels.
    assert classes_alive(expected) >= 12
    assert (expected.argmax(1) == other.argmax(1)).double().mean() < 0.5
    torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-9 * float(expected.abs().max()))


def test_file_tells_its_variant_and_an_explicit_one_is_checked():
    inplace_abn = {k: torch.zeros(s) for k, s in hrnet_seg.reference_keys(20, SMALL_EXTRA, counters=False).items()}
    batch_norm = {k: torch.zeros(s) for k, s in hrnet_seg.reference_keys(20, SMALL_EXTRA, counters=True).items()}
    assert resolve_variant(SPEC, inplace_abn) == 'inplace-abn'
    assert resolve_variant(SPEC, batch_norm) == 'bn'
    assert resolve_variant(SPEC, inplace_abn, 'bn') == 'bn'  # a BatchNorm file saved without counters
    with pytest.raises(LipToolkitError, match=r'^--variant inplace-abn, but every norm has num_batches_tracked'):
        resolve_variant(SPEC, batch_norm, 'inplace-abn')
    mixed = dict(inplace_abn, **{'bn1.num_batches_tracked': torch.tensor(3)})
    with pytest.raises(LipToolkitError, match=r'^cannot tell which HRNet-Seg network this is: 1 of \d+ norms .*'
                                              r'pass --variant inplace-abn .* or --variant bn'):
        resolve_variant(SPEC, mixed)
    assert resolve_variant(SPEC, mixed, 'inplace-abn') == 'inplace-abn'
    with pytest.raises(LipToolkitError, match=r"unknown hrnet-seg variant 'abn'; one of inplace-abn, bn"):
        resolve_variant(SPEC, inplace_abn, 'abn')
    with pytest.raises(LipToolkitError, match=r'^ce2p has a single network'):
        resolve_variant(REFERENCES['ce2p'], {}, 'bn')


def test_explicit_variant_changes_only_the_norm_weights(small_hrnet):
    """``--variant bn`` on an InPlaceABN-shaped file copies the weights; the default takes |w| + 1e-5."""
    source = reference_weights('inplace-abn', seed=3)
    prefixed = {f'model.{key}': value for key, value in source.items()}
    as_abn, _ = apply_spec(prefixed, SPEC, target_shapes_of(small_hrnet))
    as_bn, _ = apply_spec(prefixed, SPEC, target_shapes_of(small_hrnet), variant='bn')
    differing = sorted(key for key in as_abn if not torch.equal(as_abn[key], as_bn[key]))
    assert differing and all(key.endswith('.weight') and as_abn[key].dim() == 1 for key in differing)
    key = 'backbone.stage4.1.fuse_layers.0.3.1.weight'
    torch.testing.assert_close(as_abn[key], source['stage4.1.fuse_layers.0.3.1.weight'].abs() + 1e-5,
                               rtol=0, atol=0)
    assert torch.equal(as_bn[key], source['stage4.1.fuse_layers.0.3.1.weight'])


def test_head_conv_bias_is_folded_exactly(small_hrnet):
    """conv (with bias) -> norm -> ReLU computed directly == the toolkit's bias-free ConvModule."""
    source = reference_weights('inplace-abn', seed=5)
    _convert_into(small_hrnet, source)
    features = torch.randn(1, 120, 4, 6, dtype=torch.float64)
    with torch.no_grad():
        direct = F.relu(Norms(source)(F.conv2d(features, source['last_layer.0.weight'],
                                               source['last_layer.0.bias']), 'last_layer.1'))
        toolkit = small_hrnet.decode_head.convs[0](features)
    assert small_hrnet.decode_head.convs[0].conv.bias is None
    torch.testing.assert_close(toolkit, direct, rtol=1e-12, atol=1e-12)


def test_mmseg_hrnet_fusion_differs_on_odd_sizes_and_agrees_on_even_ones(small_hrnet):
    """Why the reference config uses HRNetFuseToSize: MMSeg's HRNet is only equal when sizes halve exactly."""
    from mmseg.models.backbones import HRNet
    _convert_into(small_hrnet, reference_weights('bn', seed=7))
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
        apply_spec(missing, SPEC, target)
    extra = dict(source, **{'loss.criterion.weight': torch.ones(20)})
    with pytest.raises(ConversionMismatch, match=r'1 HRNet-Seg keys have no place .*\(loss\.criterion\.weight\)'):
        apply_spec(extra, SPEC, target)


@pytest.mark.slow
@pytest.mark.parametrize('variant', VARIANTS)
def test_full_w48_file_converts_loads_and_matches(tmp_path, variant):
    from lip_toolkit.convert import convert
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    source = reference_weights(variant, extra=hrnet_seg.W48_EXTRA, dtype=torch.float32, size=(121, 89))
    src = tmp_path / 'hrnet_lip.pth'
    torch.save({f'model.{k}': v for k, v in source.items()}, src)
    result = convert('hrnet-seg', src, tmp_path / 'toolkit.pth')
    assert result['variant'] == variant
    model = build_parsing_model(load_config(result['config']), tmp_path / 'toolkit.pth', device='cpu')
    image = torch.randn(1, 3, 121, 89)
    with torch.no_grad():
        expected = hrnet_seg_forward(source, image, hrnet_seg.W48_EXTRA, kind=variant)
        actual = model.decode_head.forward(model.backbone(image))
    assert classes_alive(expected) >= 10
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))
