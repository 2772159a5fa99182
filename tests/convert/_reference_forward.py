"""The reference networks' forward passes written as plain functions of the REFERENCE state dicts.

Written from the reference code itself, not from the toolkit's modules:

* liutinglt/CE2P ``networks/CE2P.py`` (= GoGoDuck912/Self-Correction-Human-Parsing ``networks/AugmentCE2P.py``
  with renamed head modules): every norm is an ``InPlaceABNSync``; the backbone's with ``activation='none'``
  followed by a separate ReLU, the head's with the default LeakyReLU(0.01).
* HRNet/HRNet-Semantic-Segmentation ``lib/models/seg_hrnet.py``: on ``master`` (PyTorch 0.4.1) and on the
  ``HRNet-OCR`` branch under PyTorch 0.x (``lib/models/bn_helper.py``) every norm is
  ``InPlaceABNSync(activation='none')``; on ``pytorch-v1.1`` it is ``nn.BatchNorm2d``.
* open-mmlab/mmpose branch ``0.x`` ``mmpose/models/backbones/hrnet.py`` and
  ``mmpose/models/heads/topdown_heatmap_simple_head.py`` (the MMPose 0.x files MMPose 1.x configs download).

InPlaceABN in eval mode is ``(x - mean) * rsqrt(var + eps) * (|weight| + eps) + bias`` (``forward_cpu`` in
``inplace_abn_cpu.cpp``, ``forward_kernel`` in ``inplace_abn_cuda.cu`` / CE2P's ``bn.cu``; eps 1e-5), then its
activation. The tests compare these functions with the toolkit models after conversion.

:func:`calibrate` gives random weights realistic BatchNorm statistics: it runs a reference forward once and sets
every norm's running mean and variance to the batch statistics of the input that norm sees, so activations keep
unit scale through deep networks and the classifier's argmax spreads over many classes.
"""
import torch
import torch.nn.functional as F

EPS = 1e-5
#: The two kinds of norm layer the references use.
INPLACE_ABN, BATCH_NORM = 'inplace-abn', 'bn'


class Norms:
    """The reference's norm layers in eval mode, computed from each layer's four tensors in ``sd``.

    Args:
        sd: the reference state dict (no prefix).
        kind: ``'inplace-abn'`` (scale ``|w| + eps``) or ``'bn'`` (``torch.nn.BatchNorm2d``: scale ``w``).
        calibrate: when True, each layer first sets its running statistics to its input's batch statistics
            (written into ``sd``), see :func:`calibrate`.
    """

    def __init__(self, sd, kind=INPLACE_ABN, calibrate=False):
        assert kind in (INPLACE_ABN, BATCH_NORM)
        self.sd, self.kind, self.calibrate = sd, kind, calibrate

    def __call__(self, x, name, activation='none'):
        sd, shape = self.sd, (1, -1, 1, 1)
        if self.calibrate:
            sd[f'{name}.running_mean'] = x.mean(dim=(0, 2, 3)).detach().clone()
            sd[f'{name}.running_var'] = x.var(dim=(0, 2, 3), unbiased=True).detach().clone()
        if self.kind == INPLACE_ABN:
            scale = sd[f'{name}.weight'].abs() + EPS
        else:
            scale = sd[f'{name}.weight']
        y = (x - sd[f'{name}.running_mean'].view(shape)) * torch.rsqrt(sd[f'{name}.running_var'].view(shape) + EPS)
        y = y * scale.view(shape) + sd[f'{name}.bias'].view(shape)
        if activation == 'leaky_relu':
            return F.leaky_relu(y, 0.01)
        assert activation == 'none'
        return y


def _up(x, size, align_corners):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=align_corners)


def ce2p_forward(sd, x, layers, names, norm=None):
    """CE2P / SCHP ``ResNet.forward``: returns ``(seg1, seg2, edge)``; all norms InPlaceABNSync."""
    norm = norm or Norms(sd)
    relu = F.relu

    def head_abn(y, name):  # InPlaceABNSync(C): default activation LeakyReLU(0.01)
        return norm(y, name, 'leaky_relu')

    x = relu(norm(F.conv2d(x, sd['conv1.weight'], stride=2, padding=1), 'bn1'))
    x = relu(norm(F.conv2d(x, sd['conv2.weight'], padding=1), 'bn2'))
    x = relu(norm(F.conv2d(x, sd['conv3.weight'], padding=1), 'bn3'))
    x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    stages = []
    # _make_layer: layer2/3 stride 2; layer4 stride 1, dilation 2 (multi_grid (1, 1, 1))
    for index, (blocks, stride, dilation) in enumerate(zip(layers, (1, 2, 2, 1), (1, 1, 1, 2))):
        for block in range(blocks):
            p = f'layer{index + 1}.{block}'
            step = stride if block == 0 else 1
            out = relu(norm(F.conv2d(x, sd[f'{p}.conv1.weight']), f'{p}.bn1'))
            out = relu(norm(F.conv2d(out, sd[f'{p}.conv2.weight'], stride=step, padding=dilation,
                                     dilation=dilation), f'{p}.bn2'))
            out = norm(F.conv2d(out, sd[f'{p}.conv3.weight']), f'{p}.bn3')
            residual = x
            if block == 0:  # every first block changes the width (128 -> 256 in layer1)
                residual = norm(F.conv2d(x, sd[f'{p}.downsample.0.weight'], stride=step), f'{p}.downsample.1')
            x = relu(out + residual)
        stages.append(x)
    x2, x3, x4, x5 = stages
    c, e, d, f = names['context'], names['edge'], names['decoder'], names['fusion']

    size5 = x5.shape[2:]  # PSPModule: [pooled 1, 2, 3, 6 (align_corners=True), input] -> 3x3 conv -> ABN
    priors = [_up(head_abn(F.conv2d(F.adaptive_avg_pool2d(x5, bins), sd[f'{c}.stages.{i}.1.weight']),
                           f'{c}.stages.{i}.2'), size5, True) for i, bins in enumerate((1, 2, 3, 6))]
    context = head_abn(F.conv2d(torch.cat(priors + [x5], 1), sd[f'{c}.bottleneck.0.weight'], padding=1),
                       f'{c}.bottleneck.1')

    size = x2.shape[2:]  # Decoder_Module
    xt = _up(head_abn(F.conv2d(context, sd[f'{d}.conv1.0.weight']), f'{d}.conv1.1'), size, True)
    xl = head_abn(F.conv2d(x2, sd[f'{d}.conv2.0.weight']), f'{d}.conv2.1')
    dec = head_abn(F.conv2d(torch.cat([xt, xl], 1), sd[f'{d}.conv3.0.weight']), f'{d}.conv3.1')
    dec = head_abn(F.conv2d(dec, sd[f'{d}.conv3.2.weight']), f'{d}.conv3.3')
    seg1 = F.conv2d(dec, sd[f'{d}.conv4.weight'], sd[f'{d}.conv4.bias'])

    feats, edges = [], []  # Edge_Module: conv4 is shared by the three levels
    for level, stage in enumerate((x2, x3, x4), start=1):
        feat = head_abn(F.conv2d(stage, sd[f'{e}.conv{level}.0.weight']), f'{e}.conv{level}.1')
        edge = F.conv2d(feat, sd[f'{e}.conv4.weight'], sd[f'{e}.conv4.bias'], padding=1)
        if level > 1:
            feat, edge = _up(feat, size, True), _up(edge, size, True)
        feats.append(feat)
        edges.append(edge)
    edge = F.conv2d(torch.cat(edges, 1), sd[f'{e}.conv5.weight'], sd[f'{e}.conv5.bias'])

    # layer7 / fushion: conv -> ABN -> Dropout2d (identity in eval) -> classifier
    fused = head_abn(F.conv2d(torch.cat([dec] + feats, 1), sd[f'{f}.0.weight']), f'{f}.1')
    seg2 = F.conv2d(fused, sd[f'{f}.3.weight'], sd[f'{f}.3.bias'])
    return seg1, seg2, edge


def _basic(x, sd, p, norm):
    out = F.relu(norm(F.conv2d(x, sd[f'{p}.conv1.weight'], padding=1), f'{p}.bn1'))
    out = norm(F.conv2d(out, sd[f'{p}.conv2.weight'], padding=1), f'{p}.bn2')
    residual = x
    if f'{p}.downsample.0.weight' in sd:
        residual = norm(F.conv2d(x, sd[f'{p}.downsample.0.weight']), f'{p}.downsample.1')
    return F.relu(out + residual)


def _bottleneck(x, sd, p, norm):
    out = F.relu(norm(F.conv2d(x, sd[f'{p}.conv1.weight']), f'{p}.bn1'))
    out = F.relu(norm(F.conv2d(out, sd[f'{p}.conv2.weight'], padding=1), f'{p}.bn2'))
    out = norm(F.conv2d(out, sd[f'{p}.conv3.weight']), f'{p}.bn3')
    residual = x
    if f'{p}.downsample.0.weight' in sd:
        residual = norm(F.conv2d(x, sd[f'{p}.downsample.0.weight']), f'{p}.downsample.1')
    return F.relu(out + residual)


def _transition(xs, sd, name, branches, norm, feed_last=False):
    """``_make_transition_layer`` + ``forward``: HRNet-Seg master feeds an existing branch its own output
    (``y_list[i]``), a new branch the lowest-resolution one (``y_list[-1]``); with ``feed_last`` every transition
    that exists takes ``y_list[-1]`` (HRNet-Seg pytorch-v1.1, MMPose 0.x). The two agree wherever an existing
    branch keeps its width, as in every LIP setting.
    """
    out = []
    for i in range(branches):
        if i < len(xs):
            if f'{name}.{i}.0.weight' in sd:  # 3x3 conv + norm + ReLU; no layer when the width is kept
                source = xs[-1] if feed_last else xs[i]
                out.append(F.relu(norm(F.conv2d(source, sd[f'{name}.{i}.0.weight'], padding=1), f'{name}.{i}.1')))
            else:
                out.append(xs[i])
        else:
            y, step = xs[-1], 0
            while f'{name}.{i}.{step}.0.weight' in sd:  # stride-2 3x3 conv + norm + ReLU, each
                y = F.relu(norm(F.conv2d(y, sd[f'{name}.{i}.{step}.0.weight'], stride=2, padding=1),
                                f'{name}.{i}.{step}.1'))
                step += 1
            out.append(y)
    return out


def _stage(xs, sd, name, cfg, norm, upsample='to_size', multiscale_output=True):
    """``HighResolutionModule.forward``, ``NUM_MODULES`` times.

    Args:
        upsample: ``'to_size'``: HRNet-Seg's one bilinear interpolation to branch i's size (default
            align_corners, False since PyTorch 0.4.0; the HRNet-OCR branch sets ``ALIGN_CORNERS: False``);
            ``'nearest'``: MMPose's ``nn.Upsample(scale_factor=2 ** (j - i), mode='nearest')``.
        multiscale_output: False: the last module fuses into branch 0 only (MMPose's stage 4).
    """
    for module in range(cfg['num_modules']):
        p = f'{name}.{module}'
        xs = list(xs)
        for branch, blocks in enumerate(cfg['num_blocks']):
            for block in range(blocks):
                xs[branch] = _basic(xs[branch], sd, f'{p}.branches.{branch}.{block}', norm)
        outputs = len(xs) if multiscale_output or module < cfg['num_modules'] - 1 else 1
        fused = []
        for i in range(outputs):
            y = None
            for j in range(len(xs)):  # y = x[0] or fuse[i][0](x[0]), then + each j >= 1 in order
                if i == j:
                    z = xs[j]
                elif j > i:  # 1x1 conv + norm, then up-sampling to branch i
                    z = norm(F.conv2d(xs[j], sd[f'{p}.fuse_layers.{i}.{j}.0.weight']), f'{p}.fuse_layers.{i}.{j}.1')
                    if upsample == 'to_size':
                        z = _up(z, xs[i].shape[2:], False)
                    else:
                        z = F.interpolate(z, scale_factor=2 ** (j - i), mode='nearest')
                else:  # i - j stride-2 3x3 convs + norm; ReLU after all but the last
                    z = xs[j]
                    for step in range(i - j):
                        q = f'{p}.fuse_layers.{i}.{j}.{step}'
                        z = norm(F.conv2d(z, sd[f'{q}.0.weight'], stride=2, padding=1), f'{q}.1')
                        if step < i - j - 1:
                            z = F.relu(z)
                y = z if y is None else y + z
            fused.append(F.relu(y))
        xs = fused
    return xs


def hrnet_seg_forward(sd, x, extra, kind=INPLACE_ABN, norm=None):
    """HRNet-Seg ``HighResolutionNet.forward`` (stride-4 logits, ``ALIGN_CORNERS=False``).

    Args:
        kind: ``'inplace-abn'`` (master, HRNet-OCR under PyTorch 0.4.1) or ``'bn'`` (pytorch-v1.1).
    """
    norm = norm or Norms(sd, kind)
    x = F.relu(norm(F.conv2d(x, sd['conv1.weight'], stride=2, padding=1), 'bn1'))
    x = F.relu(norm(F.conv2d(x, sd['conv2.weight'], stride=2, padding=1), 'bn2'))
    for block in range(extra['stage1']['num_blocks'][0]):
        x = _bottleneck(x, sd, f'layer1.{block}', norm)
    xs = [x]
    for index, name in enumerate(('stage2', 'stage3', 'stage4'), start=1):
        xs = _transition(xs, sd, f'transition{index}', len(extra[name]['num_channels']), norm)
        xs = _stage(xs, sd, name, extra[name], norm)
    size = xs[0].shape[2:]
    x = torch.cat([xs[0]] + [_up(y, size, False) for y in xs[1:]], 1)
    # last_layer: 1x1 conv WITH bias -> norm -> ReLU -> 1x1 classifier
    x = F.relu(norm(F.conv2d(x, sd['last_layer.0.weight'], sd['last_layer.0.bias']), 'last_layer.1'))
    return F.conv2d(x, sd['last_layer.3.weight'], sd['last_layer.3.bias'])


def mmpose_topdown_hrnet_forward(sd, x, extra, norm=None):
    """MMPose 0.x ``TopDown`` with ``HRNet`` and ``TopdownHeatmapSimpleHead(num_deconv_layers=0,
    final_conv_kernel=1)`` (``configs/.../mpii/hrnet_w32_mpii_256x256.py``): heatmaps from branch 0.

    ``sd`` holds the backbone's keys without ``backbone.`` and the head's as ``keypoint_head.final_layer.*``.
    Norms are mmcv ``BN`` (torch BatchNorm2d); transitions take ``y_list[-1]``; fusion up-samples by nearest
    ``2 ** (j - i)``; stage 4 has ``multiscale_output=False``.
    """
    norm = norm or Norms(sd, BATCH_NORM)
    x = F.relu(norm(F.conv2d(x, sd['conv1.weight'], stride=2, padding=1), 'bn1'))
    x = F.relu(norm(F.conv2d(x, sd['conv2.weight'], stride=2, padding=1), 'bn2'))
    for block in range(extra['stage1']['num_blocks'][0]):
        x = _bottleneck(x, sd, f'layer1.{block}', norm)
    xs = [x]
    for index, name in enumerate(('stage2', 'stage3', 'stage4'), start=1):
        xs = _transition(xs, sd, f'transition{index}', len(extra[name]['num_channels']), norm, feed_last=True)
        xs = _stage(xs, sd, name, extra[name], norm, upsample='nearest', multiscale_output=name != 'stage4')
    return F.conv2d(xs[0], sd['keypoint_head.final_layer.weight'], sd['keypoint_head.final_layer.bias'])


def random_state_dict(table, seed=0, dtype=torch.float64):
    """Random tensors for a ``{key: shape}`` table: He-scaled convs, norm weights of both signs (30 % negative,
    magnitudes 0.5-1.5), biases of scale 0.2. Running statistics are placeholders until :func:`calibrate`."""
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in table.items():
        if key.endswith('num_batches_tracked'):
            out[key] = torch.tensor(7)
        elif key.endswith('running_var'):
            out[key] = torch.rand(shape, generator=generator, dtype=dtype) + 0.5
        elif key.endswith('running_mean') or key.endswith('bias'):
            out[key] = 0.2 * torch.randn(shape, generator=generator, dtype=dtype)
        elif len(shape) == 1:  # norm weight: both signs; InPlaceABN scales by |w| + eps, BatchNorm by w
            out[key] = (torch.rand(shape, generator=generator, dtype=dtype) + 0.5) * \
                torch.where(torch.rand(shape, generator=generator) < 0.3, -1.0, 1.0).to(dtype)
        else:
            fan_in = torch.Size(shape[1:]).numel()  # convolutions and linear classifiers
            out[key] = torch.randn(shape, generator=generator, dtype=dtype) * (2.0 / fan_in) ** 0.5
    return out


def calibrate(sd, forward, image, kind=INPLACE_ABN, classifiers=()):
    """Give random weights the statistics training would leave them; returns ``sd`` (changed in place).

    Every norm's running mean and variance become the batch statistics of its input when
    ``forward(sd, image, norm=...)`` runs. ``classifiers`` lists ``(bias key, output index)`` pairs: each such
    classifier's bias is shifted so that its classes' mean logits over ``image`` are equal (a random classifier
    on post-ReLU features otherwise lets one or two classes win everywhere).
    """
    with torch.no_grad():
        outputs = forward(sd, image, norm=Norms(sd, kind, calibrate=True))
        for bias_key, index in classifiers:
            logits = outputs if index is None else outputs[index]
            sd[bias_key] = sd[bias_key] - logits.mean(dim=(0, 2, 3))
    return sd


def classes_alive(logits):
    """How many classes win the argmax somewhere."""
    return int(logits.argmax(1).unique().numel())
