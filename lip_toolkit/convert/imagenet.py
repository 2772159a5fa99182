"""Public ImageNet backbones whose key layout is not MMPose's: SE-ResNet-152 and SCNet-101.

Both map onto MMPose backbones (``mmpose.SEResNet``, MMPose's ``SCNet`` under the toolkit's ``DilatedSCNet``), key
for key and shape for shape; only names change and the ImageNet classifier is left out.

**SE-ResNet-152**, ``se_resnet152-d17c99b7.pth``: Cadene/pretrained-models.pytorch
``pretrainedmodels/models/senet.py`` (``http://data.lip6.fr/cadene/pretrainedmodels/``), re-hosted unchanged by
timm for ``legacy_seresnet152`` (``timm/models/senet.py``, same names). ``SENet(SEResNetBottleneck, [3, 8, 36, 3],
reduction=16, inplanes=64, input_3x3=False)``:

==========================================  =================================================================
reference key                               MMPose ``SEResNet`` key
==========================================  =================================================================
``layer0.conv1.weight``, ``layer0.bn1.*``   ``conv1.weight``, ``bn1.*`` (7x7 stem)
``layerL.B.{conv,bn}{1,2,3}.*``             same
``layerL.B.downsample.{0,1}.*``             same
``layerL.B.se_module.fc{1,2}.{weight,bias}`` ``layerL.B.se_layer.conv{1,2}.conv.{weight,bias}``
``last_linear.*`` (ImageNet classifier)     left out
==========================================  =================================================================

Its bottleneck strides in ``conv1`` ("follows the Caffe implementation", senet.py), which is MMPose's
``style='caffe'``; the SE-ResNet-152 config sets it. Its max-pool is ``MaxPool2d(3, 2, ceil_mode=True)`` with no
padding where MMPose's ResNet pads by 1: a one-pixel shift of the pooling grid, the one arithmetic difference left
(the weights are a starting point for training, not a network evaluated as published).

**SCNet-101**, ``scnet101-44c5b751.pth``: MCG-NKU/SCNet ``scnet.py`` (``model_urls['scnet101']``):

==========================================  =================================================================
reference key (``SCBottleneck``)            MMPose ``SCBottleneck`` key
==========================================  =================================================================
``conv1``, ``bn1`` (7x7 stem)               same
``layerL.B.conv1_a``, ``bn1_a``             ``layerL.B.conv1``, ``bn1`` (the plain 3x3 path's 1x1)
``layerL.B.conv1_b``, ``bn1_b``             ``layerL.B.conv2``, ``bn2`` (the self-calibrated path's 1x1)
``layerL.B.k1.*``, ``scconv.k{2,3,4}.*``    same
``layerL.B.conv3``, ``bn3``, ``downsample`` same
``fc.*`` (ImageNet classifier)              left out
==========================================  =================================================================

MMPose itself publishes SCNet-101 ImageNet weights in its own layout (``scnet101-94250a77.pth``, the config's
default); this converter is for the authors' file.

``ConvertedPretrained`` (:func:`register_initializer`) is the ``init_cfg`` that downloads (or reads) such a file
and converts it while the model initialises, so a config can name the published file directly.
"""
from collections import OrderedDict
from typing import Sequence

from .common import ReferenceSpec

_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_BLOCK = r'(layer[1-4]\.\d+)'

SE_RESNET152_URL = 'https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-cadene/' \
                   'se_resnet152-d17c99b7.pth'
SCNET101_AUTHORS_URL = 'https://backseason.oss-cn-beijing.aliyuncs.com/scnet/scnet101-44c5b751.pth'

SE_RESNET152 = ReferenceSpec(
    name='se-resnet152-imagenet',
    title='SE-ResNet-152 (pretrainedmodels)',
    default_config='configs/parsing/ce2p/ce2p-aspoc_seresnet152-d16_4xb10-150e_lip-trainval-mhp-576x576.py',
    rules=[
        (r'layer0\.conv1\.weight', 'conv1.weight'),
        (rf'layer0\.bn1\.{_BN}', r'bn1.\1'),
        (rf'{_BLOCK}\.se_module\.fc([12])\.(weight|bias)', r'\1.se_layer.conv\2.conv.\3'),
        (rf'({_BLOCK}\.(?:conv[1-3]|bn[1-3]|downsample\.[01])\.\w+)', r'\1'),
    ],
    drop_keys=(r'last_linear\..+', ),
    target_module='backbone',
)

SCNET101 = ReferenceSpec(
    name='scnet101-imagenet',
    title='SCNet-101 (MCG-NKU/SCNet)',
    default_config='configs/parsing/ce2p/ce2p-aspoc_scnet101-d16_4xb10-150e_lip-trainval-mhp-576x576.py',
    rules=[
        (rf'(conv1\.weight|bn1\.{_BN})', r'\1'),
        (rf'{_BLOCK}\.conv1_a\.weight', r'\1.conv1.weight'),
        (rf'{_BLOCK}\.bn1_a\.{_BN}', r'\1.bn1.\2'),
        (rf'{_BLOCK}\.conv1_b\.weight', r'\1.conv2.weight'),
        (rf'{_BLOCK}\.bn1_b\.{_BN}', r'\1.bn2.\2'),
        (rf'({_BLOCK}\.(?:k1\.[01]|scconv\.k2\.[12]|scconv\.k[34]\.[01]|conv3|bn3|downsample\.[01])\.\w+)', r'\1'),
    ],
    drop_keys=(r'fc\..+', ),
    target_module='backbone',
)


def se_resnet152_reference_keys(layers: Sequence[int] = (3, 8, 36, 3), reduction: int = 16) -> 'OrderedDict':
    """``{key: shape}`` of pretrainedmodels' ``se_resnet152`` (``SEResNetBottleneck``, 7x7 stem, 1x1 downsample)."""
    table = OrderedDict()
    _bn = _norm_table(table)
    table['layer0.conv1.weight'] = (64, 3, 7, 7)
    _bn('layer0.bn1', 64)
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        for block in range(blocks):
            p = f'layer{stage}.{block}'
            table[f'{p}.conv1.weight'] = (planes, inplanes, 1, 1)
            _bn(f'{p}.bn1', planes)
            table[f'{p}.conv2.weight'] = (planes, planes, 3, 3)
            _bn(f'{p}.bn2', planes)
            table[f'{p}.conv3.weight'] = (planes * 4, planes, 1, 1)
            _bn(f'{p}.bn3', planes * 4)
            table[f'{p}.se_module.fc1.weight'] = (planes * 4 // reduction, planes * 4, 1, 1)
            table[f'{p}.se_module.fc1.bias'] = (planes * 4 // reduction, )
            table[f'{p}.se_module.fc2.weight'] = (planes * 4, planes * 4 // reduction, 1, 1)
            table[f'{p}.se_module.fc2.bias'] = (planes * 4, )
            if block == 0:
                table[f'{p}.downsample.0.weight'] = (planes * 4, inplanes, 1, 1)
                _bn(f'{p}.downsample.1', planes * 4)
            inplanes = planes * 4
    table['last_linear.weight'] = (1000, 2048)
    table['last_linear.bias'] = (1000, )
    return table


def scnet101_reference_keys(layers: Sequence[int] = (3, 4, 23, 3)) -> 'OrderedDict':
    """``{key: shape}`` of MCG-NKU/SCNet's ``scnet101`` (``SCBottleneck``, ``bottleneck_width=32``)."""
    table = OrderedDict()
    _bn = _norm_table(table)
    table['conv1.weight'] = (64, 3, 7, 7)
    _bn('bn1', 64)
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        width = planes // 2  # int(planes * (bottleneck_width / 64)) * cardinality
        for block in range(blocks):
            p = f'layer{stage}.{block}'
            for path in ('a', 'b'):
                table[f'{p}.conv1_{path}.weight'] = (width, inplanes, 1, 1)
                _bn(f'{p}.bn1_{path}', width)
            table[f'{p}.k1.0.weight'] = (width, width, 3, 3)
            _bn(f'{p}.k1.1', width)
            table[f'{p}.scconv.k2.1.weight'] = (width, width, 3, 3)  # k2.0 is the average pooling
            _bn(f'{p}.scconv.k2.2', width)
            for k in ('k3', 'k4'):
                table[f'{p}.scconv.{k}.0.weight'] = (width, width, 3, 3)
                _bn(f'{p}.scconv.{k}.1', width)
            table[f'{p}.conv3.weight'] = (planes * 4, width * 2, 1, 1)
            _bn(f'{p}.bn3', planes * 4)
            if block == 0:
                table[f'{p}.downsample.0.weight'] = (planes * 4, inplanes, 1, 1)
                _bn(f'{p}.downsample.1', planes * 4)
            inplanes = planes * 4
    table['fc.weight'] = (1000, 2048)
    table['fc.bias'] = (1000, )
    return table


def _norm_table(table):
    def add(module, channels):
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            table[f'{module}.{name}'] = (channels, )
        table[f'{module}.num_batches_tracked'] = ()
    return add


def register_initializer():
    """Register :class:`ConvertedPretrained` with mmengine's weight initializers (idempotent; called by the
    plugin modules, so that importing :mod:`lip_toolkit.convert` stays free of mmengine)."""
    from mmengine.registry import WEIGHT_INITIALIZERS
    if 'ConvertedPretrained' in WEIGHT_INITIALIZERS.module_dict:
        return WEIGHT_INITIALIZERS.module_dict['ConvertedPretrained']

    @WEIGHT_INITIALIZERS.register_module()
    class ConvertedPretrained:
        """``init_cfg=dict(type='ConvertedPretrained', checkpoint=NAME_OR_FILE, reference='se-resnet152-imagenet')``.

        Reads ``checkpoint`` (a published URL or name is downloaded once into torch's hub cache; a local file is
        read as it is), always through :func:`lip_toolkit.core.checkpoint.safe_load`; converts it with the
        reference's rules (a file already in the module's layout, e.g. one written by ``lip-toolkit convert``, is
        taken as it is) and loads it strictly: any key left unmatched refuses in one line.
        """

        def __init__(self, checkpoint, reference, map_location='cpu'):
            from . import REFERENCES
            if reference not in REFERENCES:
                from ..core.errors import LipToolkitError
                raise LipToolkitError(f'ConvertedPretrained: unknown reference {reference!r}; one of '
                                      f'{", ".join(REFERENCES)}')
            self.checkpoint, self.reference, self.map_location = checkpoint, reference, map_location
            self.wholemodule = False

        def __call__(self, module):
            from mmengine.logging import print_log

            from ..core.pretrained import fetch, is_published_name
            from . import REFERENCES
            from .common import apply_spec, read_reference_state_dict, target_shapes_of
            path = fetch(self.checkpoint) if is_published_name(self.checkpoint) else self.checkpoint
            state = read_reference_state_dict(path)  # safe_load, then the weights entry
            target = target_shapes_of(module)
            if list(state) == list(target) and all(tuple(state[k].shape) == target[k] for k in target):
                converted, how = state, 'already in this layout'
            else:
                converted, _ = apply_spec(state, REFERENCES[self.reference], target, path=self.checkpoint)
                how = f'converted from the {self.reference} layout'
            module.load_state_dict(converted, strict=True)
            print_log(f'load {type(module).__name__} weights from {self.checkpoint} ({how}, strict)',
                      logger='current')
            if hasattr(module, '_params_init_info'):
                from mmengine.model.weight_init import update_init_info
                update_init_info(module, init_info=f'ConvertedPretrained: {self.reference} from {self.checkpoint}')

    return ConvertedPretrained
