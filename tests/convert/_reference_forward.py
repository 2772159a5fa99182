"""The reference networks' forward passes written as plain functions of the REFERENCE state dicts.

Written from reading liutinglt/CE2P ``networks/CE2P.py`` (= SCHP ``networks/AugmentCE2P.py``) and
HRNet-Semantic-Segmentation ``lib/models/seg_hrnet.py``, with the reference's own layer semantics:
InPlaceABN = ``(x - mean) / sqrt(var + eps) * (|weight| + eps) + bias`` then LeakyReLU(0.01) or nothing
(``activation='none'``). The tests compare these with the toolkit models after conversion.
"""
import torch
import torch.nn.functional as F

EPS = 1e-5


def abn(x, sd, name, activation='leaky_relu'):
    """InPlaceABN(Sync) in eval mode, computed directly from its four tensors."""
    scale = sd[f'{name}.weight'].abs() + EPS
    shape = (1, -1, 1, 1)
    y = (x - sd[f'{name}.running_mean'].view(shape)) / torch.sqrt(sd[f'{name}.running_var'].view(shape) + EPS)
    y = y * scale.view(shape) + sd[f'{name}.bias'].view(shape)
    return F.leaky_relu(y, 0.01) if activation == 'leaky_relu' else y


def bn(x, sd, name):
    """Plain BatchNorm in eval mode."""
    return F.batch_norm(x, sd[f'{name}.running_mean'], sd[f'{name}.running_var'], sd[f'{name}.weight'],
                        sd[f'{name}.bias'], False, 0.0, EPS)


def _up(x, size, align_corners):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=align_corners)


def ce2p_forward(sd, x, layers, names):
    """CE2P / SCHP ``ResNet.forward``: returns ``(seg1, seg2, edge)``."""
    relu = F.relu
    x = relu(abn(F.conv2d(x, sd['conv1.weight'], stride=2, padding=1), sd, 'bn1', 'none'))
    x = relu(abn(F.conv2d(x, sd['conv2.weight'], padding=1), sd, 'bn2', 'none'))
    x = relu(abn(F.conv2d(x, sd['conv3.weight'], padding=1), sd, 'bn3', 'none'))
    x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    stages = []
    for index, (blocks, stride, dilation) in enumerate(zip(layers, (1, 2, 2, 1), (1, 1, 1, 2))):
        for block in range(blocks):
            p = f'layer{index + 1}.{block}'
            step = stride if block == 0 else 1
            out = relu(abn(F.conv2d(x, sd[f'{p}.conv1.weight']), sd, f'{p}.bn1', 'none'))
            out = relu(abn(F.conv2d(out, sd[f'{p}.conv2.weight'], stride=step, padding=dilation, dilation=dilation),
                           sd, f'{p}.bn2', 'none'))
            out = abn(F.conv2d(out, sd[f'{p}.conv3.weight']), sd, f'{p}.bn3', 'none')
            residual = x
            if block == 0:
                residual = abn(F.conv2d(x, sd[f'{p}.downsample.0.weight'], stride=step), sd, f'{p}.downsample.1',
                               'none')
            x = relu(out + residual)
        stages.append(x)
    x2, x3, x4, x5 = stages
    c, e, d, f = names['context'], names['edge'], names['decoder'], names['fusion']

    size5 = x5.shape[2:]
    priors = [_up(abn(F.conv2d(F.adaptive_avg_pool2d(x5, bins), sd[f'{c}.stages.{i}.1.weight']), sd,
                      f'{c}.stages.{i}.2'), size5, True) for i, bins in enumerate((1, 2, 3, 6))]
    context = abn(F.conv2d(torch.cat(priors + [x5], 1), sd[f'{c}.bottleneck.0.weight'], padding=1), sd,
                  f'{c}.bottleneck.1')

    size = x2.shape[2:]
    xt = _up(abn(F.conv2d(context, sd[f'{d}.conv1.0.weight']), sd, f'{d}.conv1.1'), size, True)
    xl = abn(F.conv2d(x2, sd[f'{d}.conv2.0.weight']), sd, f'{d}.conv2.1')
    dec = abn(F.conv2d(torch.cat([xt, xl], 1), sd[f'{d}.conv3.0.weight']), sd, f'{d}.conv3.1')
    dec = abn(F.conv2d(dec, sd[f'{d}.conv3.2.weight']), sd, f'{d}.conv3.3')
    seg1 = F.conv2d(dec, sd[f'{d}.conv4.weight'], sd[f'{d}.conv4.bias'])

    feats, edges = [], []
    for level, stage in enumerate((x2, x3, x4), start=1):
        feat = abn(F.conv2d(stage, sd[f'{e}.conv{level}.0.weight']), sd, f'{e}.conv{level}.1')
        edge = F.conv2d(feat, sd[f'{e}.conv4.weight'], sd[f'{e}.conv4.bias'], padding=1)
        if level > 1:
            feat, edge = _up(feat, size, True), _up(edge, size, True)
        feats.append(feat)
        edges.append(edge)
    edge = F.conv2d(torch.cat(edges, 1), sd[f'{e}.conv5.weight'], sd[f'{e}.conv5.bias'])

    fused = abn(F.conv2d(torch.cat([dec] + feats, 1), sd[f'{f}.0.weight']), sd, f'{f}.1')
    seg2 = F.conv2d(fused, sd[f'{f}.3.weight'], sd[f'{f}.3.bias'])
    return seg1, seg2, edge


def _basic(x, sd, p):
    out = F.relu(bn(F.conv2d(x, sd[f'{p}.conv1.weight'], padding=1), sd, f'{p}.bn1'))
    out = bn(F.conv2d(out, sd[f'{p}.conv2.weight'], padding=1), sd, f'{p}.bn2')
    return F.relu(out + x)


def _bottleneck(x, sd, p):
    out = F.relu(bn(F.conv2d(x, sd[f'{p}.conv1.weight']), sd, f'{p}.bn1'))
    out = F.relu(bn(F.conv2d(out, sd[f'{p}.conv2.weight'], padding=1), sd, f'{p}.bn2'))
    out = bn(F.conv2d(out, sd[f'{p}.conv3.weight']), sd, f'{p}.bn3')
    residual = x
    if f'{p}.downsample.0.weight' in sd:
        residual = bn(F.conv2d(x, sd[f'{p}.downsample.0.weight']), sd, f'{p}.downsample.1')
    return F.relu(out + residual)


def _transition(xs, sd, name, branches):
    out = []
    for i in range(branches):
        if i < len(xs):
            if f'{name}.{i}.0.weight' in sd:
                out.append(F.relu(bn(F.conv2d(xs[i], sd[f'{name}.{i}.0.weight'], padding=1), sd, f'{name}.{i}.1')))
            else:
                out.append(xs[i])
        else:
            y, step = xs[-1], 0
            while f'{name}.{i}.{step}.0.weight' in sd:
                y = F.relu(bn(F.conv2d(y, sd[f'{name}.{i}.{step}.0.weight'], stride=2, padding=1), sd,
                              f'{name}.{i}.{step}.1'))
                step += 1
            out.append(y)
    return out


def _stage(xs, sd, name, cfg):
    for module in range(cfg['num_modules']):
        p = f'{name}.{module}'
        xs = list(xs)
        for branch, blocks in enumerate(cfg['num_blocks']):
            for block in range(blocks):
                xs[branch] = _basic(xs[branch], sd, f'{p}.branches.{branch}.{block}')
        fused = []
        for i in range(len(xs)):
            y = None
            for j in range(len(xs)):
                if i == j:
                    z = xs[j]
                elif j > i:  # seg_hrnet.py: one interpolation straight to branch i's size
                    z = _up(bn(F.conv2d(xs[j], sd[f'{p}.fuse_layers.{i}.{j}.0.weight']), sd,
                               f'{p}.fuse_layers.{i}.{j}.1'), xs[i].shape[2:], False)
                else:
                    z = xs[j]
                    for step in range(i - j):
                        q = f'{p}.fuse_layers.{i}.{j}.{step}'
                        z = bn(F.conv2d(z, sd[f'{q}.0.weight'], stride=2, padding=1), sd, f'{q}.1')
                        if step < i - j - 1:
                            z = F.relu(z)
                y = z if y is None else y + z
            fused.append(F.relu(y))
        xs = fused
    return xs


def hrnet_seg_forward(sd, x, extra):
    """HRNet-Seg ``HighResolutionNet.forward`` (stride-4 logits, ``ALIGN_CORNERS=False``)."""
    x = F.relu(bn(F.conv2d(x, sd['conv1.weight'], stride=2, padding=1), sd, 'bn1'))
    x = F.relu(bn(F.conv2d(x, sd['conv2.weight'], stride=2, padding=1), sd, 'bn2'))
    for block in range(extra['stage1']['num_blocks'][0]):
        x = _bottleneck(x, sd, f'layer1.{block}')
    xs = [x]
    for index, name in enumerate(('stage2', 'stage3', 'stage4'), start=1):
        xs = _transition(xs, sd, f'transition{index}', len(extra[name]['num_channels']))
        xs = _stage(xs, sd, name, extra[name])
    size = xs[0].shape[2:]
    x = torch.cat([xs[0]] + [_up(y, size, False) for y in xs[1:]], 1)
    x = F.relu(bn(F.conv2d(x, sd['last_layer.0.weight'], sd['last_layer.0.bias']), sd, 'last_layer.1'))
    return F.conv2d(x, sd['last_layer.3.weight'], sd['last_layer.3.bias'])


def random_state_dict(table, seed=0, dtype=torch.float64):
    """Well-scaled random tensors for a ``{key: shape}`` table: He-scaled convs, BN weights of both signs."""
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in table.items():
        if key.endswith('num_batches_tracked'):
            out[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            out[key] = torch.rand(shape, generator=generator, dtype=dtype) + 0.5
        elif key.endswith('running_mean') or key.endswith('bias'):
            out[key] = 0.1 * torch.randn(shape, generator=generator, dtype=dtype)
        elif len(shape) == 1:  # norm weight: both signs, as InPlaceABN's |w| makes them equivalent
            out[key] = (torch.rand(shape, generator=generator, dtype=dtype) + 0.5) * \
                torch.where(torch.rand(shape, generator=generator) < 0.3, -1.0, 1.0).to(dtype)
        else:
            fan_in = shape[1] * shape[2] * shape[3]
            out[key] = torch.randn(shape, generator=generator, dtype=dtype) * (2.0 / fan_in) ** 0.5
    return out
