"""CE2P (Liu et al., "Devil in the Details: Towards Accurate Single and Multiple Human Parsing") as an MMSeg
decode head.

The head takes the four stages of a backbone (strides 4, 8, 16, 16 for the dilated ResNet of the reference)
and builds, as the released ``networks/CE2P.py`` does:

* **context embedding** on the last stage: a PSP module (:class:`PSPContext`) or, for "CE2P-OCNet", OCNet's
  ASP-OC / Base-OC (:mod:`.ocnet`), chosen by the ``context`` config;
* **high-resolution embedding**: context -> 1x1 256, up-sampled to stage 1 (stride 4), concatenated with
  stage 1 -> 1x1 48 (304 channels) -> 1x1 256 -> 1x1 256 -> classifier = ``seg1`` (decoder logits);
* **edge perceiving** on stages 1-3: each -> 1x1 256, one shared 3x3 conv to 2 edge channels per level,
  up-sampled to stage 1 and fused by a 1x1 conv into the edge logits; the three 256-ch features (768) go on;
* **fusion**: decoder features (256) + edge features (768) -> 1x1 256 + dropout -> classifier = ``seg2``.

``forward`` returns ``(seg1, seg2, edge)`` at stride 4; prediction uses ``seg2``. The loss is CE(seg1) +
CE(seg2) + class-balanced edge CE (:class:`ClassBalancedEdgeLoss`), all on logits up-sampled to the label size.
The reference's InPlaceABN is BN + LeakyReLU(0.01) here.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.psp_head import PPM
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from .ocnet import ABN_ACT, ABN_NORM


@MODELS.register_module()
class PSPContext(nn.Module):
    """CE2P's context embedding: pyramid pooling (bins 1/2/3/6, each 1x1 -> ``pool_channels``), concatenated with
    the input, then a 3x3 conv to ``channels`` (reuses MMSeg's :class:`PPM`).

    Args:
        in_channels: channels of the last stage (2048).
        channels: output channels (512).
        pool_channels: channels of each pooled branch (512).
        pool_scales: pyramid bins.
    """

    def __init__(self, in_channels: int, channels: int = 512, pool_channels: int = 512,
                 pool_scales: Sequence[int] = (1, 2, 3, 6), norm_cfg: dict = ABN_NORM,
                 act_cfg: dict = ABN_ACT, align_corners: bool = True):
        super().__init__()
        self.out_channels = channels
        self.pyramid = PPM(pool_scales, in_channels, pool_channels, conv_cfg=None, norm_cfg=norm_cfg,
                           act_cfg=act_cfg, align_corners=align_corners)
        self.bottleneck = ConvModule(in_channels + len(pool_scales) * pool_channels, channels, 3, padding=1,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.bottleneck(torch.cat([x] + self.pyramid(x), dim=1))


def edge_map_from_labels(labels: Tensor, edge_width: int = 3, ignore_index: int = 255) -> Tensor:
    """CE2P's edge target from a label map, on the fly (same rule as MMSeg's ``GenerateEdge``).

    A pixel is an edge when its label differs from its lower, right or diagonal neighbour (neither being
    ``ignore_index``); the edge map is then dilated by an ``edge_width`` square.

    Args:
        labels: (B, H, W) integer labels.

    Returns:
        (B, H, W) long tensor of 0/1.
    """
    labels = labels.long()
    valid = labels != ignore_index
    edge = torch.zeros_like(labels, dtype=torch.bool)

    def mark(a, b, va, vb):
        return (a != b) & va & vb

    # vertical, horizontal and the two diagonals; mark the pixel on one side of each pair, as GenerateEdge does
    edge[:, 1:, :] |= mark(labels[:, 1:, :], labels[:, :-1, :], valid[:, 1:, :], valid[:, :-1, :])
    edge[:, :, :-1] |= mark(labels[:, :, :-1], labels[:, :, 1:], valid[:, :, :-1], valid[:, :, 1:])
    edge[:, :-1, :-1] |= mark(labels[:, :-1, :-1], labels[:, 1:, 1:], valid[:, :-1, :-1], valid[:, 1:, 1:])
    edge[:, :-1, 1:] |= mark(labels[:, :-1, 1:], labels[:, 1:, :-1], valid[:, :-1, 1:], valid[:, 1:, :-1])
    if edge_width > 1:
        dilated = F.max_pool2d(edge[:, None].float(), kernel_size=edge_width, stride=1,
                               padding=edge_width // 2)
        edge = dilated[:, 0, :labels.shape[1], :labels.shape[2]] > 0
    return edge.long()


@MODELS.register_module()
class CE2PHead(BaseDecodeHead):
    """CE2P decode head: context, high-resolution decoder, edge branch and fusion.

    Args:
        in_channels: channels of the four backbone stages, e.g. ``[256, 512, 1024, 2048]``.
        channels: width of the decoder and of the fusion (256).
        context: config of the context module on the last stage: ``dict(type='PSPContext')`` (CE2P),
            ``dict(type='ASPOCContext')`` or ``dict(type='BaseOCContext')`` (CE2P-OCNet). ``in_channels``,
            norm, activation and ``align_corners`` are filled in.
        skip_channels: channels stage 1 is reduced to before the decoder concatenation (48).
        edge_channels: width of each edge level (256).
        edge_stages: indices (into ``in_index``) of the stages the edge branch reads (stages 1-3).
        loss_edge: config of the edge loss.
        edge_width: edge width used when the batch carries no ``gt_edge_map`` and edges are derived from labels.
        **kwargs: :class:`BaseDecodeHead` arguments (``num_classes``, ``dropout_ratio`` = 0.1 before ``seg2``,
            ``loss_decode`` applied to both parsing outputs, ``align_corners`` = True in the reference).

    Note:
        ``forward`` returns ``(seg1, seg2, edge)``: (B, num_classes, H/4, W/4) twice and (B, 2, H/4, W/4).
    """

    def __init__(self, in_channels: Sequence[int], channels: int = 256, context: dict = None,
                 skip_channels: int = 48, edge_channels: int = 256, edge_stages: Sequence[int] = (0, 1, 2),
                 loss_edge: dict = dict(type='ClassBalancedEdgeLoss', loss_weight=1.0), edge_width: int = 3,
                 **kwargs):
        kwargs.setdefault('norm_cfg', ABN_NORM)
        kwargs.setdefault('act_cfg', ABN_ACT)
        kwargs.setdefault('in_index', tuple(range(len(in_channels))))
        kwargs.setdefault('input_transform', 'multiple_select')
        kwargs.setdefault('align_corners', True)
        super().__init__(in_channels, channels, **kwargs)
        conv = dict(norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        stage_channels = list(self.in_channels)

        context = dict(context or dict(type='PSPContext'))
        context.setdefault('in_channels', stage_channels[-1])
        context.setdefault('norm_cfg', self.norm_cfg)
        context.setdefault('act_cfg', self.act_cfg)
        context.setdefault('align_corners', self.align_corners)
        self.context = MODELS.build(context)

        # high-resolution embedding (CE2P's Decoder_Module)
        self.context_reduce = ConvModule(self.context.out_channels, channels, 1, **conv)
        self.skip_reduce = ConvModule(stage_channels[0], skip_channels, 1, **conv)
        self.decoder = nn.Sequential(
            ConvModule(channels + skip_channels, channels, 1, **conv),
            ConvModule(channels, channels, 1, **conv))
        self.decoder_seg = nn.Conv2d(channels, self.out_channels, 1)

        # edge perceiving (CE2P's Edge_Module)
        self.edge_stages = tuple(edge_stages)
        self.edge_reduce = nn.ModuleList(
            ConvModule(stage_channels[i], edge_channels, 1, **conv) for i in self.edge_stages)
        self.edge_classifier = nn.Conv2d(edge_channels, 2, 3, padding=1)  # shared by all levels
        self.edge_fuse = nn.Conv2d(2 * len(self.edge_stages), 2, 1)

        # fusion; its classifier is BaseDecodeHead's dropout + conv_seg
        self.fusion = ConvModule(channels + edge_channels * len(self.edge_stages), channels, 1, **conv)

        self.loss_edge = MODELS.build(loss_edge)
        self.edge_width = edge_width

    def _upsample(self, x: Tensor, size) -> Tensor:
        return resize(x, size=size, mode='bilinear', align_corners=self.align_corners)

    def forward(self, inputs) -> Tuple[Tensor, Tensor, Tensor]:
        """Return ``(seg1, seg2, edge)`` logits at stage-1 resolution."""
        stages = self._transform_inputs(inputs)
        size = stages[0].shape[2:]

        context = self.context_reduce(self.context(stages[-1]))
        decoded = torch.cat([self._upsample(context, size), self.skip_reduce(stages[0])], dim=1)
        decoded = self.decoder(decoded)
        seg1 = self.decoder_seg(decoded)

        edge_feats, edge_logits = [], []
        for stage_index, reduce in zip(self.edge_stages, self.edge_reduce):
            feat = reduce(stages[stage_index])
            edge_logits.append(self._upsample(self.edge_classifier(feat), size))
            edge_feats.append(self._upsample(feat, size))
        edge = self.edge_fuse(torch.cat(edge_logits, dim=1))

        fused = self.fusion(torch.cat([decoded] + edge_feats, dim=1))
        seg2 = self.cls_seg(fused)
        return seg1, seg2, edge

    def predict(self, inputs, batch_img_metas: List[dict], test_cfg) -> Tensor:
        """Fused parsing logits (``seg2``) resized to the input image, as MMSeg's segmentors expect."""
        return self.predict_by_feat(self.forward(inputs)[1], batch_img_metas)

    def _stack_edge_gt(self, batch_data_samples, seg_label: Tensor) -> Tensor:
        if all('gt_edge_map' in sample for sample in batch_data_samples):
            edges = torch.stack([sample.gt_edge_map.data for sample in batch_data_samples]).squeeze(1)
            return edges.long()
        return edge_map_from_labels(seg_label, self.edge_width, self.ignore_index)

    def loss_by_feat(self, seg_logits: Tuple[Tensor, Tensor, Tensor], batch_data_samples) -> dict:
        """CE on ``seg1`` and ``seg2`` (each term of ``loss_decode``), class-balanced CE on the edge logits."""
        seg1, seg2, edge = seg_logits
        seg_label = self._stack_batch_gt(batch_data_samples).squeeze(1).long()
        size = seg_label.shape[1:]
        losses = {}
        loss_terms = self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) else [self.loss_decode]
        for suffix, logits in (('decoder', seg1), ('fused', seg2)):
            logits = self._upsample(logits, size)
            for loss_term in loss_terms:
                name = f'{loss_term.loss_name}_{suffix}'
                value = loss_term(logits, seg_label, weight=None, ignore_index=self.ignore_index)
                losses[name] = losses.get(name, 0) + value
            if suffix == 'fused':
                losses['acc_seg'] = accuracy(logits, seg_label, ignore_index=self.ignore_index)
        edge_label = self._stack_edge_gt(batch_data_samples, seg_label)
        losses[self.loss_edge.loss_name] = self.loss_edge(self._upsample(edge, size), edge_label,
                                                          ignore_index=self.ignore_index)
        return losses
