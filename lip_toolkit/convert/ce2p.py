"""CE2P (liutinglt/CE2P, ``networks/CE2P.py``): its released ``LIP_epoch_149.pth`` into the toolkit's CE2P.

The reference network, read from ``networks/CE2P.py`` (``Res_Deeplab``), and where each part goes:

============================================  =====================================================================
reference (``module.`` prefix stripped)       toolkit (``configs/references/ce2p_r101_lip-473x473.py``)
============================================  =====================================================================
``conv1/2/3``, ``bn1/2/3`` (deep stem)         ``backbone.stem.{0,3,6}`` conv, ``backbone.stem.{1,4,7}`` BN (+ReLU)
``layer{1-4}.N.{conv,bn}{1-3}``, downsample   ``backbone.layer{1-4}.N...`` (same names; ResNetV1c)
``layer5.stages.S.{1,2}`` (PSP branch)         ``decode_head.context.pyramid.S.1.{conv,bn}``
``layer5.bottleneck.{0,1}``                    ``decode_head.context.bottleneck.{conv,bn}`` (input channels reordered)
``edge_layer.conv{1,2,3}.{0,1}``               ``decode_head.edge_reduce.{0,1,2}.{conv,bn}``
``edge_layer.conv4`` / ``conv5``               ``decode_head.edge_classifier`` / ``edge_fuse``
``layer6.conv1`` / ``conv2``                   ``decode_head.context_reduce`` / ``skip_reduce``
``layer6.conv3.{0,1}`` / ``{2,3}``             ``decode_head.decoder.0`` / ``decoder.1``
``layer6.conv4`` (seg1 classifier)             ``decode_head.decoder_seg``
``layer7.{0,1}`` / ``layer7.3`` (seg2)         ``decode_head.fusion.{conv,bn}`` / ``decode_head.conv_seg``
============================================  =====================================================================

Every norm of the reference is an ``InPlaceABNSync``: in the backbone with ``activation='none'`` (a separate ReLU
follows, as in the toolkit's ResNet), in the head with its default LeakyReLU(0.01) (the toolkit head's
``act_cfg``). All of them scale by ``|weight| + 1e-5``, which becomes the BN weight. The PSP module concatenates
``[pooled 1, 2, 3, 6, input]``; MMSeg's PPM (used by :class:`~lip_toolkit.parsing.models.PSPContext`)
concatenates ``[input, pooled...]``, so the bottleneck's input channels are reordered to match.

:func:`reference_keys` is the reference's full ``{key: shape}`` table (tests build state dicts from it).
"""
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

from .common import ReferenceSpec, RenameRule, move_trailing_in_channels_first

NORM_FIELDS = ('weight', 'bias', 'running_mean', 'running_var')
#: InPlaceABN keeps no ``num_batches_tracked``; a file re-saved from torch BatchNorm layers may, so it maps too.
_NORM = r'(weight|bias|running_mean|running_var|num_batches_tracked)'

#: Names of the head modules: CE2P's ``Res_Deeplab`` (SCHP renames them, see :mod:`.schp`).
CE2P_HEAD_NAMES = dict(context='layer5', edge='edge_layer', decoder='layer6', fusion='layer7')
RESNET101_LAYERS = (3, 4, 23, 3)


def _norm(table: Dict, module: str, channels: int) -> None:
    for name in NORM_FIELDS:
        table[f'{module}.{name}'] = (channels, )


def resnet_keys(layers: Sequence[int] = RESNET101_LAYERS) -> 'OrderedDict':
    """``{key: shape}`` of the reference's deep-stem, dilated ResNet (``ResNet(Bottleneck, layers)``)."""
    table = OrderedDict()
    table['conv1.weight'] = (64, 3, 3, 3)
    _norm(table, 'bn1', 64)
    table['conv2.weight'] = (64, 64, 3, 3)
    _norm(table, 'bn2', 64)
    table['conv3.weight'] = (128, 64, 3, 3)
    _norm(table, 'bn3', 128)
    inplanes = 128
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        for block in range(blocks):
            prefix = f'layer{stage}.{block}'
            table[f'{prefix}.conv1.weight'] = (planes, inplanes, 1, 1)
            _norm(table, f'{prefix}.bn1', planes)
            table[f'{prefix}.conv2.weight'] = (planes, planes, 3, 3)
            _norm(table, f'{prefix}.bn2', planes)
            table[f'{prefix}.conv3.weight'] = (planes * 4, planes, 1, 1)
            _norm(table, f'{prefix}.bn3', planes * 4)
            if block == 0:  # every first block changes the channel count (128 -> 256 in layer1)
                table[f'{prefix}.downsample.0.weight'] = (planes * 4, inplanes, 1, 1)
                _norm(table, f'{prefix}.downsample.1', planes * 4)
            inplanes = planes * 4
    return table


def head_keys(num_classes: int = 20, names: Dict[str, str] = CE2P_HEAD_NAMES) -> 'OrderedDict':
    """``{key: shape}`` of the CE2P head: PSP context, edge module, decoder, fusion."""
    table = OrderedDict()
    context, edge, decoder, fusion = names['context'], names['edge'], names['decoder'], names['fusion']
    for stage in range(4):  # bins 1, 2, 3, 6: AdaptiveAvgPool2d (no weights), 1x1 conv, ABN
        table[f'{context}.stages.{stage}.1.weight'] = (512, 2048, 1, 1)
        _norm(table, f'{context}.stages.{stage}.2', 512)
    table[f'{context}.bottleneck.0.weight'] = (512, 2048 + 4 * 512, 3, 3)
    _norm(table, f'{context}.bottleneck.1', 512)
    for index, channels in enumerate((256, 512, 1024), start=1):
        table[f'{edge}.conv{index}.0.weight'] = (256, channels, 1, 1)
        _norm(table, f'{edge}.conv{index}.1', 256)
    table[f'{edge}.conv4.weight'] = (2, 256, 3, 3)
    table[f'{edge}.conv4.bias'] = (2, )
    table[f'{edge}.conv5.weight'] = (2, 6, 1, 1)
    table[f'{edge}.conv5.bias'] = (2, )
    table[f'{decoder}.conv1.0.weight'] = (256, 512, 1, 1)
    _norm(table, f'{decoder}.conv1.1', 256)
    table[f'{decoder}.conv2.0.weight'] = (48, 256, 1, 1)
    _norm(table, f'{decoder}.conv2.1', 48)
    table[f'{decoder}.conv3.0.weight'] = (256, 304, 1, 1)
    _norm(table, f'{decoder}.conv3.1', 256)
    table[f'{decoder}.conv3.2.weight'] = (256, 256, 1, 1)
    _norm(table, f'{decoder}.conv3.3', 256)
    table[f'{decoder}.conv4.weight'] = (num_classes, 256, 1, 1)
    table[f'{decoder}.conv4.bias'] = (num_classes, )
    table[f'{fusion}.0.weight'] = (256, 1024, 1, 1)
    _norm(table, f'{fusion}.1', 256)
    table[f'{fusion}.3.weight'] = (num_classes, 256, 1, 1)  # index 2 is Dropout2d
    table[f'{fusion}.3.bias'] = (num_classes, )
    return table


def reference_keys(num_classes: int = 20, layers: Sequence[int] = RESNET101_LAYERS,
                   names: Dict[str, str] = CE2P_HEAD_NAMES) -> 'OrderedDict':
    """The reference's whole state dict as ``{key: shape}`` (no ``module.`` prefix).

    Args:
        num_classes: 20 for LIP.
        layers: bottleneck blocks per stage; (3, 4, 23, 3) is the released ResNet-101.
        names: head module names (CE2P's or SCHP's).
    """
    table = resnet_keys(layers)
    table.update(head_keys(num_classes, names))
    return table


def rename_rules(names: Dict[str, str] = CE2P_HEAD_NAMES) -> List[RenameRule]:
    """Ordered rename rules from the reference's keys to the toolkit's (``ResNetV1c`` + ``CE2PHead``)."""
    context, edge, decoder, fusion = (names[k] for k in ('context', 'edge', 'decoder', 'fusion'))
    head = 'decode_head'
    rules: List[Tuple[str, str]] = [
        (r'conv1\.weight', 'backbone.stem.0.weight'),
        (rf'bn1\.{_NORM}', r'backbone.stem.1.\1'),
        (r'conv2\.weight', 'backbone.stem.3.weight'),
        (rf'bn2\.{_NORM}', r'backbone.stem.4.\1'),
        (r'conv3\.weight', 'backbone.stem.6.weight'),
        (rf'bn3\.{_NORM}', r'backbone.stem.7.\1'),
        (r'(layer[1-4]\.\d+\.(?:conv[1-3]|bn[1-3]|downsample\.[01])\.\w+)', r'backbone.\1'),
        (rf'{context}\.stages\.(\d+)\.1\.weight', rf'{head}.context.pyramid.\1.1.conv.weight'),
        (rf'{context}\.stages\.(\d+)\.2\.{_NORM}', rf'{head}.context.pyramid.\1.1.bn.\2'),
        (rf'{context}\.bottleneck\.0\.weight', f'{head}.context.bottleneck.conv.weight'),
        (rf'{context}\.bottleneck\.1\.{_NORM}', rf'{head}.context.bottleneck.bn.\1'),
    ]
    for level in (1, 2, 3):
        rules += [(rf'{edge}\.conv{level}\.0\.weight', f'{head}.edge_reduce.{level - 1}.conv.weight'),
                  (rf'{edge}\.conv{level}\.1\.{_NORM}', rf'{head}.edge_reduce.{level - 1}.bn.\1')]
    rules += [
        (rf'{edge}\.conv4\.(weight|bias)', rf'{head}.edge_classifier.\1'),
        (rf'{edge}\.conv5\.(weight|bias)', rf'{head}.edge_fuse.\1'),
        (rf'{decoder}\.conv1\.0\.weight', f'{head}.context_reduce.conv.weight'),
        (rf'{decoder}\.conv1\.1\.{_NORM}', rf'{head}.context_reduce.bn.\1'),
        (rf'{decoder}\.conv2\.0\.weight', f'{head}.skip_reduce.conv.weight'),
        (rf'{decoder}\.conv2\.1\.{_NORM}', rf'{head}.skip_reduce.bn.\1'),
        (rf'{decoder}\.conv3\.0\.weight', f'{head}.decoder.0.conv.weight'),
        (rf'{decoder}\.conv3\.1\.{_NORM}', rf'{head}.decoder.0.bn.\1'),
        (rf'{decoder}\.conv3\.2\.weight', f'{head}.decoder.1.conv.weight'),
        (rf'{decoder}\.conv3\.3\.{_NORM}', rf'{head}.decoder.1.bn.\1'),
        (rf'{decoder}\.conv4\.(weight|bias)', rf'{head}.decoder_seg.\1'),
        (rf'{fusion}\.0\.weight', f'{head}.fusion.conv.weight'),
        (rf'{fusion}\.1\.{_NORM}', rf'{head}.fusion.bn.\1'),
        (rf'{fusion}\.3\.(weight|bias)', rf'{head}.conv_seg.\1'),
    ]
    return rules


def psp_bottleneck_reorder(context: str):
    """The PSP bottleneck weight with the input feature's channels moved in front of the pooled ones."""

    def reorder(weight, state_dict):
        input_channels = state_dict[f'{context}.stages.0.1.weight'].shape[1] \
            if f'{context}.stages.0.1.weight' in state_dict else 2048
        return move_trailing_in_channels_first(weight, input_channels)

    return reorder


def make_spec(name: str, title: str, default_config: str, names: Dict[str, str]) -> ReferenceSpec:
    """A CE2P-family reference (CE2P, SCHP): same network, other head names."""
    return ReferenceSpec(
        name=name,
        title=title,
        default_config=default_config,
        rules=rename_rules(names),
        strip_prefixes=('module.', ),
        abn_module=lambda module: True,  # every norm of the network is an InPlaceABN(Sync)
        reorder_in_channels={f"{names['context']}.bottleneck.0.weight": psp_bottleneck_reorder(names['context'])},
    )


SPEC = make_spec('ce2p', 'CE2P', 'configs/references/ce2p_r101_lip-473x473.py', CE2P_HEAD_NAMES)
