"""OCNet object-context modules (Base-OC, ASP-OC) and the decode heads built on them.

OCNet (Yuan and Wang, "OCNet: Object Context Network for Scene Parsing") replaces a pyramid pooling context with
self-attention over pixels. The modules here follow the released OCNet.pytorch design:

* :class:`ObjectContextBlock`: key = 1x1 conv + BN + activation, the query **shares** the key layer, value =
  plain 1x1 conv, attention = softmax(Q^T K / sqrt(key_channels)), output 1x1 conv initialised to zero (so the
  block starts as a no-op on top of its residual path); optional max-pooling by ``pool_scale`` before
  attention and bilinear up-sampling after it.
* :class:`BaseOCContext`: 3x3 conv -> object context -> concat with its input -> 1x1 conv + dropout.
* :class:`ASPOCContext`: 3x3 conv, then five branches (3x3 conv + object context on a 2x pooled map, 1x1 conv,
  three dilated 3x3 convs) -> concat -> 1x1 conv + dropout.

Both contexts are registered modules with an ``out_channels`` attribute, so :class:`CE2PHead` takes either in
place of its PSP context (the seed's "CE2P-OCNet"), and :class:`BaseOCHead` / :class:`ASPOCHead` use them as
plain MMSeg decode heads. The reference's InPlaceABN is BN + LeakyReLU(0.01) here (plain modules, CPU, export).
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS

# InPlaceABN(activation='leaky_relu', slope=0.01) expressed with plain modules.
ABN_NORM = dict(type='BN', requires_grad=True)
ABN_ACT = dict(type='LeakyReLU', negative_slope=0.01)


class ObjectContextBlock(nn.Module):
    """Pixel self-attention with a shared key/query projection (OCNet's ``_SelfAttentionBlock``).

    Args:
        in_channels: channels of the input feature map.
        out_channels: channels of the returned context.
        key_channels: channels of the shared key/query projection.
        value_channels: channels of the value projection.
        pool_scale: max-pool the input by this factor before attention (1: none), then up-sample back.
        norm_cfg: norm of the key projection.
        act_cfg: activation of the key projection.
        align_corners: ``align_corners`` of the up-sampling.
    """

    def __init__(self, in_channels: int, out_channels: int, key_channels: int, value_channels: int,
                 pool_scale: int = 1, norm_cfg: dict = ABN_NORM, act_cfg: dict = ABN_ACT,
                 align_corners: bool = True):
        super().__init__()
        self.key_channels = key_channels
        self.pool_scale = pool_scale
        self.align_corners = align_corners
        self.key_query = ConvModule(in_channels, key_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.value = nn.Conv2d(in_channels, value_channels, 1)
        self.out_project = nn.Conv2d(value_channels, out_channels, 1)
        # Zero output projection: the block contributes nothing until training moves it (as in OCNet).
        nn.init.zeros_(self.out_project.weight)
        nn.init.zeros_(self.out_project.bias)

    def init_weights(self):
        """Keep the zero output projection when an mmengine ``init_cfg`` re-initialises the parent."""
        nn.init.zeros_(self.out_project.weight)
        nn.init.zeros_(self.out_project.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the object context of ``x`` (B, out_channels, H, W)."""
        height, width = x.shape[2:]
        if self.pool_scale > 1:
            x = F.max_pool2d(x, kernel_size=self.pool_scale)
        batch = x.size(0)
        key = self.key_query(x).flatten(2)  # B, Ck, N
        value = self.value(x).flatten(2).transpose(1, 2)  # B, N, Cv
        similarity = torch.bmm(key.transpose(1, 2), key) * self.key_channels**-0.5  # B, N, N
        context = torch.bmm(F.softmax(similarity, dim=-1), value)  # B, N, Cv
        context = context.transpose(1, 2).reshape(batch, -1, *x.shape[2:])
        context = self.out_project(context)
        if self.pool_scale > 1:
            context = resize(context, size=(height, width), mode='bilinear',
                             align_corners=self.align_corners)
        return context


@MODELS.register_module()
class BaseOCContext(nn.Module):
    """Base-OC: 3x3 conv -> object context -> concat[context, features] -> 1x1 conv + dropout.

    Args:
        in_channels: channels of the backbone's last stage (2048 for ResNet-101).
        channels: width after the 3x3 conv and of the output (512 in OCNet).
        key_channels: key/query channels of the attention (256).
        value_channels: value channels of the attention (256).
        pool_scale: attention on a map max-pooled by this factor (1 in Base-OC).
        dropout_ratio: dropout after the fusion conv (0.05).
    """

    def __init__(self, in_channels: int, channels: int = 512, key_channels: int = 256,
                 value_channels: int = 256, pool_scale: int = 1, dropout_ratio: float = 0.05,
                 norm_cfg: dict = ABN_NORM, act_cfg: dict = ABN_ACT, align_corners: bool = True):
        super().__init__()
        self.out_channels = channels
        self.reduce = ConvModule(in_channels, channels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.object_context = ObjectContextBlock(channels, channels, key_channels, value_channels,
                                                 pool_scale, norm_cfg, act_cfg, align_corners)
        self.fuse = nn.Sequential(
            ConvModule(2 * channels, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg),
            nn.Dropout2d(dropout_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map the last-stage features (B, in, H, W) to the context (B, channels, H, W)."""
        feats = self.reduce(x)
        return self.fuse(torch.cat([self.object_context(feats), feats], dim=1))


@MODELS.register_module()
class ASPOCContext(nn.Module):
    """ASP-OC: object context and atrous spatial pyramid branches, concatenated and fused.

    Args:
        in_channels: channels of the backbone's last stage (2048).
        channels: width after the first 3x3 conv and of the output (512 in OCNet).
        branch_channels: width of each of the five branches (256).
        key_channels: key/query channels of the attention (128).
        value_channels: value channels of the attention (256).
        pool_scale: attention on a map max-pooled by this factor (2 in ASP-OC).
        dilations: dilations of the three atrous branches ((12, 24, 36) in OCNet).
        dropout_ratio: dropout after the fusion conv (0.1).
    """

    def __init__(self, in_channels: int, channels: int = 512, branch_channels: int = 256,
                 key_channels: int = 128, value_channels: int = 256, pool_scale: int = 2,
                 dilations: Sequence[int] = (12, 24, 36), dropout_ratio: float = 0.1,
                 norm_cfg: dict = ABN_NORM, act_cfg: dict = ABN_ACT, align_corners: bool = True):
        super().__init__()
        self.out_channels = channels
        conv = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.reduce = ConvModule(in_channels, channels, 3, padding=1, **conv)
        self.context_branch = nn.Sequential(
            ConvModule(channels, branch_channels, 3, padding=1, **conv),
            _ObjectContextWithProjection(branch_channels, branch_channels, key_channels, value_channels,
                                         pool_scale, norm_cfg, act_cfg, align_corners))
        self.pointwise_branch = ConvModule(channels, branch_channels, 1, **conv)
        self.atrous_branches = nn.ModuleList(
            ConvModule(channels, branch_channels, 3, padding=d, dilation=d, **conv) for d in dilations)
        self.fuse = nn.Sequential(
            ConvModule(branch_channels * (2 + len(dilations)), channels, 1, **conv),
            nn.Dropout2d(dropout_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map the last-stage features (B, in, H, W) to the context (B, channels, H, W)."""
        feats = self.reduce(x)
        branches = [self.context_branch(feats), self.pointwise_branch(feats)]
        branches += [branch(feats) for branch in self.atrous_branches]
        return self.fuse(torch.cat(branches, dim=1))


class _ObjectContextWithProjection(nn.Module):
    """OCNet's ``BaseOC_Context_Module``: object context followed by 1x1 conv + BN (no concatenation)."""

    def __init__(self, in_channels, out_channels, key_channels, value_channels, pool_scale, norm_cfg,
                 act_cfg, align_corners):
        super().__init__()
        self.object_context = ObjectContextBlock(in_channels, in_channels, key_channels, value_channels,
                                                 pool_scale, norm_cfg, act_cfg, align_corners)
        self.project = ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x):
        return self.project(self.object_context(x))


class _ContextDecodeHead(BaseDecodeHead):
    """A decode head made of one context module on the last stage and the classifier."""

    context_type = None

    def __init__(self, context: dict = None, **kwargs):
        kwargs.setdefault('norm_cfg', ABN_NORM)
        kwargs.setdefault('act_cfg', ABN_ACT)
        super().__init__(**kwargs)
        context = dict(context or {})
        context.setdefault('type', self.context_type)
        context.setdefault('in_channels', self.in_channels)
        context.setdefault('channels', self.channels)
        context.setdefault('norm_cfg', self.norm_cfg)
        context.setdefault('act_cfg', self.act_cfg)
        context.setdefault('align_corners', self.align_corners)
        self.context = MODELS.build(context)

    def forward(self, inputs):
        """Return the class logits at the resolution of the selected backbone stage."""
        return self.cls_seg(self.context(self._transform_inputs(inputs)))


@MODELS.register_module()
class BaseOCHead(_ContextDecodeHead):
    """OCNet's Base-OC as a plain MMSeg decode head (``channels`` = 512 in the reference).

    Args:
        context: extra arguments of :class:`BaseOCContext` (key/value channels, pool scale, dropout).
        **kwargs: :class:`mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments.
    """

    context_type = 'BaseOCContext'


@MODELS.register_module()
class ASPOCHead(_ContextDecodeHead):
    """OCNet's ASP-OC as a plain MMSeg decode head (``channels`` = 512 in the reference).

    Args:
        context: extra arguments of :class:`ASPOCContext` (branch/key/value channels, dilations, dropout).
        **kwargs: :class:`mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments.
    """

    context_type = 'ASPOCContext'
