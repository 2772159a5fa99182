"""Backbones of the seed's parsing models that MMSeg does not ship.

* SE-ResNet-152 is MMPose's ``SEResNet`` used across scopes (``type='mmpose.SEResNet'``): its bottleneck
  honours ``strides``/``dilations``, so it needs no wrapper.
* SCNet-101: MMPose's ``SCNet`` accepts ``dilations`` but its self-calibrated convolutions ignore them (every
  3x3 conv keeps padding 1, dilation 1). :class:`DilatedSCNet` sets the dilation of those 3x3 convs after
  construction, so a stage with stride 1 keeps the receptive field of the stride-2 stage it replaces (the
  usual way to turn a classification network into a dilated one).
* "DeResNet-101" is read as a ResNet-101 whose 3x3 convs in stages 2-4 are modulated deformable convs (DCNv2):
  MMSeg's ``ResNetV1c`` with ``dcn=dict(type='DCNv2TV')`` and ``stage_with_dcn=(False, True, True, True)``.
  ``DCNv2TV`` (:mod:`.deform_conv`) is mmcv's ``ModulatedDeformConv2dPack`` on torchvision's op, so that no
  mmcv CUDA op is needed on a GPU; mmcv's own ``DCNv2`` takes the same checkpoints.
* HRNetV2-W48 is MMSeg's ``HRNet`` with an FCN head on the four up-sampled branches (720 channels).
  :class:`HRNetFuseToSize` is the same network whose fuse layers up-sample exactly as HRNet-Semantic-Segmentation
  does (used by the reference config that runs its released LIP weights).
"""
from typing import Sequence

import torch.nn as nn
from mmpose.models.backbones import SCNet
from mmseg.models.backbones import HRNet
from mmseg.registry import MODELS


@MODELS.register_module()
class DilatedSCNet(SCNet):
    """MMPose's SCNet whose 3x3 convolutions follow ``dilations`` (stages with stride 1 for output stride 16/8).

    Args:
        depth: 50 or 101.
        dilations: dilation of each stage, e.g. ``(1, 1, 1, 2)`` with ``strides=(1, 2, 2, 1)``.
        **kwargs: MMPose ``SCNet`` / ``ResNet`` arguments (``strides``, ``deep_stem``, ``out_indices`` ...).
    """

    def __init__(self, depth: int, dilations: Sequence[int] = (1, 1, 1, 1), **kwargs):
        super().__init__(depth, dilations=dilations, **kwargs)
        for stage_index, dilation in enumerate(dilations):
            if dilation > 1:
                _dilate_3x3_convs(getattr(self, self.res_layers[stage_index]), dilation)


def _dilate_3x3_convs(module: nn.Module, dilation: int) -> None:
    """Give every stride-1 3x3 conv in ``module`` this dilation, with padding that keeps its output size."""
    for conv in module.modules():
        if isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3) and conv.stride == (1, 1):
            conv.dilation = (dilation, dilation)
            conv.padding = (dilation, dilation)


@MODELS.register_module()
class HRNetFuseToSize(HRNet):
    """MMSeg's HRNet whose fuse layers up-sample a lower branch straight to the higher branch's size.

    MMSeg up-samples by ``2 ** (j - i)`` and then resizes to the target size; HRNet-Semantic-Segmentation
    interpolates once, to the target size (bilinear, ``align_corners=False``). The two agree when every branch
    is exactly half the one above (inputs divisible by 32, e.g. 480 or 512), not otherwise (473: 119 vs 2 x 60).
    The weights and their names are MMSeg's ``HRNet``'s; only the parameter-free up-sampling module goes.

    Args:
        **kwargs: MMSeg ``HRNet`` arguments.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from mmseg.models.backbones.hrnet import HRModule
        for module in self.modules():
            if isinstance(module, HRModule) and module.fuse_layers is not None:
                for i, fuse_layer in enumerate(module.fuse_layers):
                    for j in range(i + 1, len(fuse_layer)):
                        # conv, norm, Upsample -> conv, norm; HRModule.forward then resizes to the target size
                        fuse_layer[j] = nn.Sequential(*list(fuse_layer[j].children())[:2])
