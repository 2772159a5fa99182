"""CE2P and SCHP: reference-named state dicts -> toolkit CE2P, strict load, same outputs as the reference's math.

The default suite uses ResNet-50 depth (the reference's ``ResNet(Bottleneck, layers)`` takes any depth; the
toolkit config takes ``depth=50``) with the full widths and head; the ResNet-101 run is the ``slow`` test.
"""
import pytest
import torch

from lip_toolkit.convert import REFERENCES, ce2p, schp
from lip_toolkit.convert.common import ConversionMismatch, apply_spec, build_target_model, target_shapes_of

from ._reference_forward import Norms, calibrate, ce2p_forward, classes_alive, random_state_dict

R50_LAYERS = (3, 4, 6, 3)
DEPTH_50 = {'model.backbone.depth': 50}


@pytest.fixture(scope='module')
def ce2p_r50():
    """The toolkit model of the CE2P reference config at ResNet-50 depth, float64, eval mode."""
    model = build_target_model(REFERENCES['ce2p'].default_config, DEPTH_50)
    return model.double().eval()


def reference_weights(table, layers, names, seed=0, dtype=torch.float64, size=(49, 57)):
    """Reference weights with signed InPlaceABN weights and running statistics calibrated through the
    reference's own forward (so activations keep their scale and many classes win somewhere)."""
    calib = torch.randn(8, 3, *size, generator=torch.Generator().manual_seed(100 + seed), dtype=dtype)
    return calibrate(random_state_dict(table, seed, dtype),
                     lambda sd, x, norm: ce2p_forward(sd, x, layers, names, norm=norm), calib,
                     classifiers=[(f"{names['decoder']}.conv4.bias", 0), (f"{names['fusion']}.3.bias", 1)])


def _convert_into(model, reference, table, seed=0):
    names = ce2p.CE2P_HEAD_NAMES if reference == 'ce2p' else schp.SCHP_HEAD_NAMES
    source = {f'module.{key}': value for key, value in reference_weights(table, R50_LAYERS, names, seed).items()}
    converted, filled = apply_spec(source, REFERENCES[reference], target_shapes_of(model), path='ref.pth')
    model.load_state_dict(converted, strict=True)
    return {key[len('module.'):]: value for key, value in source.items()}, converted, filled


@pytest.fixture(scope='module')
def converted_ce2p(ce2p_r50):
    """CE2P reference weights (R50 depth), and the same weights converted and loaded into the toolkit model."""
    return _convert_into(ce2p_r50, 'ce2p', ce2p.reference_keys(20, R50_LAYERS))


def test_reference_table_is_the_released_resnet101_network():
    table = ce2p.reference_keys()
    conv_and_linear = sum(torch.Size(shape).numel() for key, shape in table.items()
                          if key.endswith('weight') and len(shape) == 4)
    assert len([k for k in table if k.startswith('layer3.')]) == 23 * 3 * 5 + 5  # 23 blocks, 1 downsample
    assert table['layer5.bottleneck.0.weight'] == (512, 4096, 3, 3)
    assert table['layer7.3.weight'] == (20, 256, 1, 1)
    assert conv_and_linear > 60e6  # CE2P-R101 has ~66.7M parameters, almost all in convolutions
    assert set(schp.reference_keys()) - set(table) and len(schp.reference_keys()) == len(table)


def test_converted_model_computes_the_reference_network(ce2p_r50, converted_ce2p):
    """Whole network: toolkit (seg1, seg2, edge) == the reference forward on the reference's own weights."""
    source, _, filled = converted_ce2p
    assert filled and all(key.endswith('num_batches_tracked') for key in filled)
    image = torch.randn(1, 3, 49, 57, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        expected = ce2p_forward(source, image, R50_LAYERS, ce2p.CE2P_HEAD_NAMES)
        actual = ce2p_r50.decode_head.forward(ce2p_r50.backbone(image))
        plain_bn = ce2p_forward(source, image, R50_LAYERS, ce2p.CE2P_HEAD_NAMES, norm=Norms(source, 'bn'))
    # Non-trivial weights: many classes win somewhere, and reading InPlaceABN as plain BN changes most pixels.
    assert classes_alive(expected[1]) >= 12
    assert (plain_bn[1].argmax(1) == expected[1].argmax(1)).double().mean() < 0.5
    for name, want, got in zip(('seg1', 'seg2', 'edge'), expected, actual):
        assert got.shape == want.shape, name
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9 * float(want.abs().max()), msg=name)


def test_schp_is_ce2p_with_renamed_head(ce2p_r50, converted_ce2p):
    """The same tensors under SCHP's names give the very same toolkit state dict (so the same network)."""
    source, converted, _ = converted_ce2p
    ce2p_keys, schp_keys = ce2p.reference_keys(20, R50_LAYERS), schp.reference_keys(20, R50_LAYERS)
    renamed = dict(zip(schp_keys, (source[key] for key in ce2p_keys)))  # both tables list layers in one order
    schp_converted, _ = apply_spec({f'module.{k}': v for k, v in renamed.items()}, REFERENCES['schp'],
                                   target_shapes_of(ce2p_r50))
    assert list(schp_converted) == list(converted)
    assert all(torch.equal(schp_converted[key], converted[key]) for key in converted)


def test_fusion_block_is_bn_plus_leaky_relu_on_the_reference_weights(ce2p_r50, converted_ce2p):
    """One block alone: conv -> BN(|w| + eps) -> LeakyReLU(0.01), computed directly from the reference tensors."""
    source = converted_ce2p[0]
    features = torch.randn(2, 1024, 5, 7, dtype=torch.float64)
    with torch.no_grad():
        direct = Norms(source)(torch.nn.functional.conv2d(features, source['layer7.0.weight']), 'layer7.1',
                               'leaky_relu')
        toolkit = ce2p_r50.decode_head.fusion(features)
    torch.testing.assert_close(toolkit, direct, rtol=1e-12, atol=1e-12)
    assert (direct < 0).any()  # the negative side really went through LeakyReLU, not ReLU
    assert (source['layer7.1.weight'] < 0).any()  # and some InPlaceABN weights were negative


def test_psp_concatenation_order_needs_the_channel_reordering(ce2p_r50, converted_ce2p):
    """The PSP bottleneck's input channels are reordered: the reorder is not a no-op."""
    weight = converted_ce2p[0]['layer5.bottleneck.0.weight']
    converted = ce2p_r50.decode_head.context.bottleneck.conv.weight
    assert not torch.equal(converted, weight)
    torch.testing.assert_close(converted[:, :2048], weight[:, 2048:], rtol=0, atol=0)


def test_a_missing_or_extra_key_is_refused(ce2p_r50):
    table = ce2p.reference_keys(20, R50_LAYERS)
    source = {f'module.{key}': torch.ones(shape) for key, shape in table.items()}
    target = target_shapes_of(ce2p_r50)
    missing = dict(source)
    missing.pop('module.layer6.conv2.1.running_var')
    with pytest.raises(ConversionMismatch, match=r'1 toolkit weights get no value '
                                                 r'\(decode_head\.skip_reduce\.bn\.running_var\)'):
        apply_spec(missing, REFERENCES['ce2p'], target)
    extra = dict(source, **{'module.layer5.aux.weight': torch.zeros(1)})
    with pytest.raises(ConversionMismatch, match=r'1 CE2P keys have no place in the toolkit model '
                                                 r'\(layer5\.aux\.weight\)'):
        apply_spec(extra, REFERENCES['ce2p'], target)
    deeper = {f'module.{key}': torch.zeros(shape) for key, shape in ce2p.reference_keys().items()}
    # an R101 file for an R50 config: layer3 blocks 6-22 (17 x 15 tensors) have no place
    with pytest.raises(ConversionMismatch, match=r'255 CE2P keys have no place .*\(layer3\.6\.conv1\.weight'):
        apply_spec(deeper, REFERENCES['ce2p'], target)


@pytest.mark.slow
@pytest.mark.parametrize('reference', ['ce2p', 'schp'])
def test_full_resnet101_file_converts_loads_and_matches(tmp_path, reference):
    """The released size: R101 table -> file -> `convert` -> the reference config's model, strictly."""
    from lip_toolkit.convert import convert
    from lip_toolkit.core.checkpoint import load_checkpoint
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    names = ce2p.CE2P_HEAD_NAMES if reference == 'ce2p' else schp.SCHP_HEAD_NAMES
    # float64 end to end: through the calibrated R101, float32 weights moved the logits by 7e-4 of the largest
    # one and a float32-rounded |w| + 1e-5 alone by 7e-5 (measured); rounding is not what this test is about.
    source = reference_weights(ce2p.reference_keys(20, ce2p.RESNET101_LAYERS, names), ce2p.RESNET101_LAYERS, names,
                               size=(97, 73))
    src = tmp_path / 'reference.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in source.items()}, 'epoch': 150}, src)
    result = convert(reference, src, tmp_path / 'toolkit.pth')
    model = build_parsing_model(load_config(result['config']), None, device='cpu').double()
    load_checkpoint(model, tmp_path / 'toolkit.pth', strict=True)
    image = torch.randn(1, 3, 97, 73, dtype=torch.float64)
    with torch.no_grad():
        expected = ce2p_forward(source, image, ce2p.RESNET101_LAYERS, names)[1]
        actual = model.decode_head.forward(model.backbone(image))[1]
    assert classes_alive(expected) >= 10
    torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-9 * float(expected.abs().max()))
