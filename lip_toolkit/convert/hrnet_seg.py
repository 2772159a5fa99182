"""HRNet-Semantic-Segmentation's LIP HRNetV2-W48 (``lib/models/seg_hrnet.py``) into MMSeg's HRNet + FCN head.

MMSeg's ``HRNet`` backbone keeps the reference's module names (stem ``conv1/bn1/conv2/bn2``, ``layer1``,
``transition1-3``, ``stage2-4`` with ``branches`` and ``fuse_layers``), so the backbone maps by adding
``backbone.``. The head differs:

==================================  ================================================================
reference                           toolkit (``configs/references/hrnetv2-w48_lip-473x473.py``)
==================================  ================================================================
``last_layer.0`` (1x1 conv + bias)  ``decode_head.convs.0.conv`` (no bias: folded into the BN mean)
``last_layer.1`` (BN; ``.2`` ReLU)  ``decode_head.convs.0.bn``
``last_layer.3`` (classifier)       ``decode_head.conv_seg``
==================================  ================================================================

The released file holds the training wrapper's keys (``model.<key>``, HRNet-Seg's ``FullModel``), optionally
inside ``state_dict``; ``model.`` and ``module.`` are removed.

**Which norm layer ran.** The three released LIP files come from two different networks:

==================  =====================================================  ===========================================
variant             released file                                          norm layer in ``lib/models/seg_hrnet.py``
==================  =====================================================  ===========================================
``inplace-abn``     ``master`` README's file (56.04, PyTorch 0.4.1); the   ``InPlaceABNSync(activation='none')``
                    HRNet-OCR branch's ``hrnet_lip_5583_torch04.pth``      (``master``; ``bn_helper.py`` under
                    (55.83, "reproducible only with PyTorch 0.4.1")        PyTorch 0.x): scales by ``|w| + 1e-5``
``bn``              ``pytorch-v1.1`` README's file (55.8, PyTorch 1.1)     ``nn.BatchNorm2d``: scales by ``w``
==================  =====================================================  ===========================================

For ``inplace-abn`` every norm weight becomes ``|w| + 1e-5`` (:func:`~.common.abn_to_bn`); for ``bn`` it is
copied. The file tells which: InPlaceABN (both copies, ``sync_bn/inplace_abn/bn.py``) registers only
``running_mean`` and ``running_var``, while ``nn.BatchNorm2d`` and ``SyncBatchNorm`` of PyTorch >= 0.4.1 add
``num_batches_tracked`` to every norm; no branch runs plain BatchNorm on an older PyTorch (``master`` needs
0.4.1 for ``F.interpolate``, the HRNet-OCR branch picks InPlaceABN under 0.x). So counters on every norm mean
``bn``, on none ``inplace-abn``; a file with counters on some norms only does not tell, and ``--variant`` is
then required. ``--variant bn`` is honoured for a file without counters (a BatchNorm file re-saved without
them); ``--variant inplace-abn`` is refused for a file with counters everywhere (InPlaceABN never writes one).

:func:`reference_keys` builds the reference's ``{key: shape}`` table for any ``STAGE1-4`` setting (the
experiment YAML's ``MODEL.EXTRA``); :data:`W48_EXTRA` is LIP's ``seg_hrnet_w48_473x473`` setting.
"""
from collections import OrderedDict
from typing import Dict, List, Sequence

from ..core.errors import LipToolkitError
from .common import ReferenceSpec, norm_modules

NORM_FIELDS = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
_NORM = r'(weight|bias|running_mean|running_var|num_batches_tracked)'

#: ``MODEL.EXTRA`` of ``experiments/lip/seg_hrnet_w48_473x473_sgd_lr7e-3_wd5e-4_bs_40_epoch150.yaml``.
W48_EXTRA = dict(
    stage1=dict(num_modules=1, block='BOTTLENECK', num_blocks=(4, ), num_channels=(64, )),
    stage2=dict(num_modules=1, block='BASIC', num_blocks=(4, 4), num_channels=(48, 96)),
    stage3=dict(num_modules=4, block='BASIC', num_blocks=(4, 4, 4), num_channels=(48, 96, 192)),
    stage4=dict(num_modules=3, block='BASIC', num_blocks=(4, 4, 4, 4), num_channels=(48, 96, 192, 384)),
)
_EXPANSION = dict(BASIC=1, BOTTLENECK=4)


def _norm(table: Dict, module: str, channels: int, counters: bool) -> None:
    for name in NORM_FIELDS:
        if name == 'num_batches_tracked':
            if counters:
                table[f'{module}.{name}'] = ()
        else:
            table[f'{module}.{name}'] = (channels, )


def _block_keys(table, prefix, block, inplanes, planes, with_downsample, counters):
    expansion = _EXPANSION[block]
    if block == 'BOTTLENECK':
        table[f'{prefix}.conv1.weight'] = (planes, inplanes, 1, 1)
        _norm(table, f'{prefix}.bn1', planes, counters)
        table[f'{prefix}.conv2.weight'] = (planes, planes, 3, 3)
        _norm(table, f'{prefix}.bn2', planes, counters)
        table[f'{prefix}.conv3.weight'] = (planes * expansion, planes, 1, 1)
        _norm(table, f'{prefix}.bn3', planes * expansion, counters)
    else:
        table[f'{prefix}.conv1.weight'] = (planes, inplanes, 3, 3)
        _norm(table, f'{prefix}.bn1', planes, counters)
        table[f'{prefix}.conv2.weight'] = (planes, planes, 3, 3)
        _norm(table, f'{prefix}.bn2', planes, counters)
    if with_downsample:
        table[f'{prefix}.downsample.0.weight'] = (planes * expansion, inplanes, 1, 1)
        _norm(table, f'{prefix}.downsample.1', planes * expansion, counters)


def _transition_keys(table, name, previous: Sequence[int], current: Sequence[int], counters):
    for index, channels in enumerate(current):
        if index < len(previous):
            if channels != previous[index]:  # 3x3 conv + BN + ReLU; else no layer (None)
                table[f'{name}.{index}.0.weight'] = (channels, previous[index], 3, 3)
                _norm(table, f'{name}.{index}.1', channels, counters)
        else:  # a new, lower-resolution branch from the last one: stride-2 3x3 convs
            for step in range(index + 1 - len(previous)):
                in_channels = previous[-1]
                out_channels = channels if step == index - len(previous) else in_channels
                table[f'{name}.{index}.{step}.0.weight'] = (out_channels, in_channels, 3, 3)
                _norm(table, f'{name}.{index}.{step}.1', out_channels, counters)


def _stage_keys(table, name, cfg, channels: Sequence[int], counters):
    expansion = _EXPANSION[cfg['block']]
    widths = [c * expansion for c in channels]
    branches = len(channels)
    for module in range(cfg['num_modules']):
        prefix = f'{name}.{module}'
        for branch in range(branches):
            for block in range(cfg['num_blocks'][branch]):
                _block_keys(table, f'{prefix}.branches.{branch}.{block}', cfg['block'], widths[branch],
                            channels[branch], block == 0 and widths[branch] != channels[branch] * expansion,
                            counters)
        if branches == 1:
            continue
        for i in range(branches):
            for j in range(branches):
                if j > i:  # 1x1 conv + BN, then up-sampling
                    table[f'{prefix}.fuse_layers.{i}.{j}.0.weight'] = (widths[i], widths[j], 1, 1)
                    _norm(table, f'{prefix}.fuse_layers.{i}.{j}.1', widths[i], counters)
                elif j < i:  # stride-2 3x3 convs; the last one reaches branch i's width
                    for step in range(i - j):
                        out_channels = widths[i] if step == i - j - 1 else widths[j]
                        table[f'{prefix}.fuse_layers.{i}.{j}.{step}.0.weight'] = (out_channels, widths[j], 3, 3)
                        _norm(table, f'{prefix}.fuse_layers.{i}.{j}.{step}.1', out_channels, counters)
    return widths


def reference_keys(num_classes: int = 20, extra: Dict = None, counters: bool = True) -> 'OrderedDict':
    """HRNet-Seg's ``HighResolutionNet`` state dict as ``{key: shape}`` (no ``model.`` prefix).

    Args:
        num_classes: 20 for LIP.
        extra: ``STAGE1-4`` settings (lower-case keys as in :data:`W48_EXTRA`); default W48.
        counters: include ``num_batches_tracked`` (``bn`` variant; InPlaceABN files have none).
    """
    extra = extra or W48_EXTRA
    table = OrderedDict()
    table['conv1.weight'] = (64, 3, 3, 3)
    _norm(table, 'bn1', 64, counters)
    table['conv2.weight'] = (64, 64, 3, 3)
    _norm(table, 'bn2', 64, counters)
    stage1 = extra['stage1']
    planes = stage1['num_channels'][0]
    inplanes = 64
    for block in range(stage1['num_blocks'][0]):
        _block_keys(table, f'layer1.{block}', stage1['block'], inplanes, planes,
                    block == 0 and inplanes != planes * _EXPANSION[stage1['block']], counters)
        inplanes = planes * _EXPANSION[stage1['block']]
    previous = [inplanes]
    for index, name in enumerate(('stage2', 'stage3', 'stage4'), start=1):
        cfg = extra[name]
        current = [c * _EXPANSION[cfg['block']] for c in cfg['num_channels']]
        _transition_keys(table, f'transition{index}', previous, current, counters)
        previous = _stage_keys(table, name, cfg, cfg['num_channels'], counters)
    last = sum(previous)
    table['last_layer.0.weight'] = (last, last, 1, 1)
    table['last_layer.0.bias'] = (last, )
    _norm(table, 'last_layer.1', last, counters)
    table['last_layer.3.weight'] = (num_classes, last, 1, 1)
    table['last_layer.3.bias'] = (num_classes, )
    return table


def rename_rules() -> List:
    """Ordered rename rules: the classifier head to MMSeg's FCN head, everything else under ``backbone.``."""
    return [
        (r'last_layer\.0\.weight', 'decode_head.convs.0.conv.weight'),
        (rf'last_layer\.1\.{_NORM}', r'decode_head.convs.0.bn.\1'),
        (r'last_layer\.3\.(weight|bias)', r'decode_head.conv_seg.\1'),
        (r'((?:conv[12]|bn[12])\.\w+)', r'backbone.\1'),
        (r'((?:layer1|transition[1-3]|stage[2-4])\..+)', r'backbone.\1'),
    ]


#: ``--variant`` choices: the released file each stands for (see the module docstring).
VARIANTS = {
    'inplace-abn': "master's LIP file, HRNet-OCR's hrnet_lip_5583_torch04.pth (InPlaceABNSync, |w| + 1e-5)",
    'bn': "pytorch-v1.1's LIP file (torch BatchNorm2d)",
}


def choose_variant(state, requested=None, path=None) -> str:
    """``'inplace-abn'`` or ``'bn'`` for a prefix-free HRNet-Seg state dict (see the module docstring).

    Raises:
        LipToolkitError: the file does not tell and nothing is requested, or ``inplace-abn`` is requested for a
            file whose every norm has a BatchNorm counter.
    """
    norms = norm_modules(state)
    counted = [module for module in norms if f'{module}.num_batches_tracked' in state]
    told = 'bn' if norms and len(counted) == len(norms) else 'inplace-abn' if not counted else None
    if requested is None:
        if told is None:
            raise LipToolkitError(f'cannot tell which HRNet-Seg network this is: {len(counted)} of {len(norms)} '
                                  'norms have num_batches_tracked; pass --variant inplace-abn (master / HRNet-OCR '
                                  'files) or --variant bn (pytorch-v1.1 file)', path)
        return told
    if requested == 'inplace-abn' and told == 'bn':
        raise LipToolkitError('--variant inplace-abn, but every norm has num_batches_tracked, which InPlaceABN '
                              'never writes: this is a BatchNorm (pytorch-v1.1) file; use --variant bn', path)
    return requested


SPEC = ReferenceSpec(
    name='hrnet-seg',
    title='HRNet-Seg',
    default_config='configs/references/hrnetv2-w48_lip-473x473.py',
    rules=rename_rules(),
    strip_prefixes=('module.', 'model.'),
    fold_conv_bias={'last_layer.0.bias': 'last_layer.1'},
    variants={'inplace-abn': lambda module: True, 'bn': lambda module: False},
    choose_variant=choose_variant,
)
