"""ImageNet SE-ResNet-152 (pretrainedmodels / timm legacy names) and SCNet-101 (MCG-NKU/SCNet names) into MMPose's
backbones: strict key mapping, and one residual block computed from the reference code's arithmetic (written out
below from ``pretrainedmodels/models/senet.py`` and SCNet's ``scnet.py``) equal to MMPose's block on the converted
weights. The default suite uses the 50-layer versions of both tables (same blocks, fewer of them); the full-size
files are the ``slow`` tests."""
import pytest
import torch
import torch.nn.functional as F

from lip_toolkit.convert import REFERENCES, imagenet
from lip_toolkit.convert.common import ConversionMismatch, apply_spec, target_shapes_of

from ._reference_forward import BATCH_NORM, Norms, random_state_dict

R50 = (3, 4, 6, 3)


def _mmpose_backbone(kind, depth=50):
    from mmpose.models.backbones import SCNet, SEResNet
    backbone = SEResNet(depth=depth, style='caffe') if kind == 'se-resnet' else SCNet(depth=depth)
    backbone.double().eval()  # MMPose's ResNet.train() returns None: no chaining
    return backbone


def se_block(sd, x, p):
    """pretrainedmodels ``SEResNetBottleneck.forward`` (stride in conv1) with ``SEModule``."""
    bn = Norms(sd, BATCH_NORM)
    stride = 2 if f'{p}.downsample.0.weight' in sd and p.split('.')[0] != 'layer1' else 1
    out = F.relu(bn(F.conv2d(x, sd[f'{p}.conv1.weight'], stride=stride), f'{p}.bn1'))
    out = F.relu(bn(F.conv2d(out, sd[f'{p}.conv2.weight'], padding=1), f'{p}.bn2'))
    out = bn(F.conv2d(out, sd[f'{p}.conv3.weight']), f'{p}.bn3')
    squeeze = F.relu(F.conv2d(out.mean((2, 3), keepdim=True), sd[f'{p}.se_module.fc1.weight'],
                              sd[f'{p}.se_module.fc1.bias']))
    scale = torch.sigmoid(F.conv2d(squeeze, sd[f'{p}.se_module.fc2.weight'], sd[f'{p}.se_module.fc2.bias']))
    residual = x
    if f'{p}.downsample.0.weight' in sd:
        residual = bn(F.conv2d(x, sd[f'{p}.downsample.0.weight'], stride=stride), f'{p}.downsample.1')
    return F.relu(out * scale + residual)


def sc_block(sd, x, p, stride):
    """SCNet ``SCBottleneck.forward`` (``avd=False``) with ``SCConv`` (``pooling_r=4``)."""
    bn = Norms(sd, BATCH_NORM)
    out_a = F.relu(bn(F.conv2d(x, sd[f'{p}.conv1_a.weight']), f'{p}.bn1_a'))
    out_b = F.relu(bn(F.conv2d(x, sd[f'{p}.conv1_b.weight']), f'{p}.bn1_b'))
    out_a = F.relu(bn(F.conv2d(out_a, sd[f'{p}.k1.0.weight'], stride=stride, padding=1), f'{p}.k1.1'))
    k2 = bn(F.conv2d(F.avg_pool2d(out_b, 4, 4), sd[f'{p}.scconv.k2.1.weight'], padding=1), f'{p}.scconv.k2.2')
    gate = torch.sigmoid(out_b + F.interpolate(k2, out_b.shape[2:]))
    k3 = bn(F.conv2d(out_b, sd[f'{p}.scconv.k3.0.weight'], padding=1), f'{p}.scconv.k3.1')
    out_b = bn(F.conv2d(k3 * gate, sd[f'{p}.scconv.k4.0.weight'], stride=stride, padding=1), f'{p}.scconv.k4.1')
    out_b = F.relu(out_b)
    out = bn(F.conv2d(torch.cat([out_a, out_b], 1), sd[f'{p}.conv3.weight']), f'{p}.bn3')
    residual = x
    if f'{p}.downsample.0.weight' in sd:
        residual = bn(F.conv2d(x, sd[f'{p}.downsample.0.weight'], stride=stride), f'{p}.downsample.1')
    return F.relu(out + residual)


def test_se_resnet_file_converts_strictly_and_its_blocks_compute_the_same():
    source = random_state_dict(imagenet.se_resnet152_reference_keys(R50), seed=1)
    backbone = _mmpose_backbone('se-resnet')
    converted, filled = apply_spec(source, REFERENCES['se-resnet152-imagenet'], target_shapes_of(backbone))
    backbone.load_state_dict(converted, strict=True)
    assert not filled and not any(key.startswith('last_linear') for key in converted)
    x = torch.randn(2, 256, 12, 10, dtype=torch.float64)
    with torch.no_grad():  # layer2.0: stride 2 in conv1 (Caffe style) and a downsample; layer1.1: identity
        torch.testing.assert_close(backbone.layer2[0](x), se_block(source, x, 'layer2.0'), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(backbone.layer1[1](x), se_block(source, x, 'layer1.1'), rtol=1e-12, atol=1e-12)


def test_scnet_file_converts_strictly_and_its_blocks_compute_the_same():
    source = random_state_dict(imagenet.scnet101_reference_keys(R50), seed=2)
    backbone = _mmpose_backbone('scnet')
    converted, filled = apply_spec(source, REFERENCES['scnet101-imagenet'], target_shapes_of(backbone))
    backbone.load_state_dict(converted, strict=True)
    assert not filled and not any(key.startswith('fc.') for key in converted)
    x = torch.randn(2, 256, 16, 12, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(backbone.layer2[0](x), sc_block(source, x, 'layer2.0', 2), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(backbone.layer1[1](x), sc_block(source, x, 'layer1.1', 1), rtol=1e-12, atol=1e-12)


def test_a_key_without_a_place_is_refused():
    backbone = _mmpose_backbone('scnet')
    source = {k: torch.zeros(s) for k, s in imagenet.scnet101_reference_keys(R50).items()}
    source['layer1.0.avd_layer.weight'] = torch.zeros(1)
    with pytest.raises(ConversionMismatch, match=r'1 SCNet-101 \(MCG-NKU/SCNet\) keys have no place .*avd_layer'):
        apply_spec(source, REFERENCES['scnet101-imagenet'], target_shapes_of(backbone))


def test_converted_pretrained_init_downloads_converts_and_loads_strictly(tmp_path, monkeypatch):
    """``init_cfg=dict(type='ConvertedPretrained', ...)`` on a published URL (a file:// stand-in): the module
    ends with the converted weights, and an already converted local file is taken as it is."""
    import torch.hub
    from mmpose.models.backbones import SEResNet

    from lip_toolkit.convert.imagenet import register_initializer
    register_initializer()
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    source = {k: v.float() for k, v in random_state_dict(imagenet.se_resnet152_reference_keys(R50), 3).items()}
    published = tmp_path / 'server' / 'se_resnet152.pth'  # (file:// names with a hex suffix are hash-checked)
    published.parent.mkdir()
    torch.save(source, published)
    init_cfg = dict(type='ConvertedPretrained', reference='se-resnet152-imagenet', checkpoint=published.as_uri())
    backbone = SEResNet(depth=50, style='caffe', init_cfg=init_cfg)
    backbone.init_weights()
    assert torch.equal(backbone.layer3[2].se_layer.conv1.conv.weight, source['layer3.2.se_module.fc1.weight'])
    torch.testing.assert_close(backbone.bn1.weight, source['layer0.bn1.weight'], rtol=0, atol=0)
    assert (tmp_path / 'hub' / 'checkpoints' / published.name).is_file()
    local = tmp_path / 'converted.pth'
    torch.save({'state_dict': backbone.state_dict()}, local)
    again = SEResNet(depth=50, style='caffe', init_cfg=dict(init_cfg, checkpoint=str(local)))
    again.init_weights()
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), backbone.state_dict().values()))


@pytest.mark.slow
@pytest.mark.parametrize('reference', ['se-resnet152-imagenet', 'scnet101-imagenet'])
def test_full_size_file_converts_for_its_config(tmp_path, reference):
    from lip_toolkit.convert import convert
    from lip_toolkit.core.checkpoint import safe_load
    table = imagenet.se_resnet152_reference_keys() if reference.startswith('se') else \
        imagenet.scnet101_reference_keys()
    source = {k: v.float() for k, v in random_state_dict(table, 4).items()}
    torch.save(source, tmp_path / 'imagenet.pth')
    result = convert(reference, tmp_path / 'imagenet.pth', tmp_path / 'backbone.pth')
    written = safe_load(tmp_path / 'backbone.pth')
    assert written['meta']['module'] == 'backbone' and result['num_tensors'] == len(written['state_dict'])
    assert 'conv1.weight' in written['state_dict'] and not any(k.startswith(('fc.', 'last_linear.'))
                                                                for k in written['state_dict'])
