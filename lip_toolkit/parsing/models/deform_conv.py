"""Modulated deformable convolution (DCNv2) on ``torchvision.ops.deform_conv2d``: no mmcv CUDA op needed.

mmcv's ``ModulatedDeformConv2dPack`` (``type='DCNv2'``) runs mmcv's own compiled kernels, so on a GPU it needs an
mmcv built with CUDA ops (nvcc, tens of minutes, the install failure most reported across OpenMMLab).
torchvision's standard wheels ship CPU and CUDA kernels of the same operation. :class:`ModulatedDeformConv2dTV`
(``type='DCNv2TV'``) is the same layer on torchvision's op: the same arguments, the same parameters under the same
names (``weight``, ``bias``, ``conv_offset.weight``, ``conv_offset.bias``, so mmcv-trained checkpoints load) and
the same arithmetic (``conv_offset`` gives y/x offsets per kernel tap in its first two thirds of channels and mask
logits in the last third; torchvision reads offsets and masks in that layout).
"""
import math
from typing import Tuple, Union

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch.nn.modules.utils import _pair


@MODELS.register_module('DCNv2TV')
class ModulatedDeformConv2dTV(nn.Module):
    """DCNv2 that acts as a normal conv layer: a 3 x k x k offset/mask conv then a modulated deformable conv.

    Registered in mmengine's root model registry, which mmcv's ``build_conv_layer`` reads from every scope, so a
    backbone takes it as ``dcn=dict(type='DCNv2TV', deform_groups=1, fallback_on_stride=False)``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups: as ``nn.Conv2d``.
        deform_groups: groups of input channels that share one offset field.
        bias: ``True``/``False``; mmcv's ``'auto'`` is resolved by ``build_conv_layer``'s callers.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Union[int, Tuple[int, int]],
                 stride: Union[int, Tuple[int, int]] = 1, padding: Union[int, Tuple[int, int]] = 0,
                 dilation: Union[int, Tuple[int, int]] = 1, groups: int = 1, deform_groups: int = 1,
                 bias: bool = True):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f'in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by '
                             f'groups ({groups})')
        if in_channels % deform_groups:
            raise ValueError(f'in_channels ({in_channels}) must be divisible by deform_groups ({deform_groups})')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.deform_groups = deform_groups
        # what code written for nn.Conv2d reads (mmcv's ConvModule, init helpers)
        self.transposed = False
        self.output_padding = (0, 0)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *self.kernel_size))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter('bias', None)
        self.conv_offset = nn.Conv2d(in_channels, deform_groups * 3 * self.kernel_size[0] * self.kernel_size[1],
                                     kernel_size=self.kernel_size, stride=self.stride, padding=self.padding,
                                     dilation=self.dilation, bias=True)
        self.init_weights()

    def init_weights(self) -> None:
        """mmcv's initialisation: uniform(+-1/sqrt(fan_in)) weights, zero bias, and a zero offset/mask conv, so
        that a fresh layer samples the regular grid with mask 0.5."""
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torchvision.ops import deform_conv2d
        offset_and_mask = self.conv_offset(x)
        # channels: 2 * deform_groups * k * k offsets (y, x per tap), then deform_groups * k * k mask logits
        n_offsets = offset_and_mask.shape[1] // 3 * 2
        offset = offset_and_mask[:, :n_offsets]
        mask = torch.sigmoid(offset_and_mask[:, n_offsets:])
        # Mixed precision: torchvision's CPU kernel has no bfloat16/float16 version and no autocast rule (its CUDA
        # autocast rule runs the op in float32): run it in float32 here on every device, output in x's type.
        op_dtype = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
        bias = None if self.bias is None else self.bias.to(op_dtype)
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = deform_conv2d(x.to(op_dtype), offset.to(op_dtype), self.weight.to(op_dtype), bias,
                                stride=self.stride, padding=self.padding, dilation=self.dilation,
                                mask=mask.to(op_dtype))
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, '
                f'padding={self.padding}, dilation={self.dilation}, groups={self.groups}, '
                f'deform_groups={self.deform_groups}, bias={self.bias is not None}')
