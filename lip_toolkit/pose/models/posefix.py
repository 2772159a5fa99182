"""PoseFix (Moon, Chang and Lee, CVPR 2019): a model-agnostic pose refiner, as an MMPose top-down estimator.

The network sees the image crop and the coarse pose to refine, rendered as one Gaussian map per joint at input
resolution and concatenated with the image channels before the first convolution. A ResNet and three 4x4 stride-2
deconvolutions (as in Simple Baselines) give one map per joint at 1/4 resolution; a spatial softmax and its
expectation (soft-argmax, integral regression) give the refined coordinates. The loss is the reference's: softmax
cross-entropy against a one-hot target split bilinearly over the four pixels around the true point, plus L1 on the
soft-argmax coordinates in heatmap pixels.
"""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmpose.evaluation.functional import keypoint_pck_accuracy
from mmpose.models.backbones import ResNet
from mmpose.models.heads import IntegralRegressionHead
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from torch import Tensor

from lip_toolkit.core.errors import LipToolkitError


def render_pose_maps(keypoints: Tensor, visible: Tensor, size: Sequence[int], sigma: float,
                     peak: float = 1.0) -> Tensor:
    """Render one Gaussian map per joint, zero for missing joints.

    Args:
        keypoints: (B, K, 2) coordinates in pixels of the rendered grid.
        visible: (B, K) > 0 where the joint is given.
        size: (width, height) of the grid.
        sigma: Gaussian standard deviation in pixels.
        peak: value at the joint.

    Returns:
        Tensor: (B, K, height, width).
    """
    width, height = size
    xs = torch.arange(width, dtype=keypoints.dtype, device=keypoints.device).view(1, 1, 1, width)
    ys = torch.arange(height, dtype=keypoints.dtype, device=keypoints.device).view(1, 1, height, 1)
    x = keypoints[..., 0, None, None]
    y = keypoints[..., 1, None, None]
    maps = torch.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2.0 * sigma ** 2))
    return maps * (visible > 0).to(maps.dtype)[..., None, None] * peak


def bilinear_onehot_targets(coords: Tensor, size: Sequence[int]) -> Tensor:
    """A one-hot map per joint with the unit mass split bilinearly over the 4 pixels around ``coords``.

    Args:
        coords: (B, K, 2) target points in heatmap pixels.
        size: (width, height) of the heatmap.

    Returns:
        Tensor: (B, K, height * width), each row sums to 1 (or 0 when the point is off the map).
    """
    width, height = size
    floor = coords.floor()
    frac = coords - floor
    batch, joints, _ = coords.shape
    targets = coords.new_zeros(batch, joints, height * width)
    for dx in (0, 1):
        for dy in (0, 1):
            weight = (frac[..., 0] if dx else 1 - frac[..., 0]) * (frac[..., 1] if dy else 1 - frac[..., 1])
            x = floor[..., 0] + dx
            y = floor[..., 1] + dy
            inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
            index = (y.clamp(0, height - 1) * width + x.clamp(0, width - 1)).long()
            targets.scatter_add_(2, index[..., None], (weight * inside)[..., None])
    total = targets.sum(-1, keepdim=True)
    return targets / torch.where(total > 0, total, torch.ones_like(total))


@MODELS.register_module()
class PoseFixHead(IntegralRegressionHead):
    """Simple-Baselines deconvolution head with soft-argmax output and PoseFix's two-term loss.

    Args:
        heatmap_loss_weight (float): weight of the softmax cross-entropy term; the coordinate term (``loss``, an
            L1 loss on heatmap-pixel coordinates in the reference) keeps its own ``loss_weight``.
        **kwargs: as :class:`mmpose.models.heads.IntegralRegressionHead`.
    """

    def __init__(self, *args, heatmap_loss_weight: float = 1.0, **kwargs):
        kwargs.setdefault('loss', dict(type='L1Loss', use_target_weight=True))
        super().__init__(*args, **kwargs)
        self.heatmap_loss_weight = heatmap_loss_weight

    def loss(self, feats, batch_data_samples, train_cfg: dict = {}) -> dict:
        if self.simplebaseline_head is not None:
            logits = self.simplebaseline_head(feats)
        else:
            logits = feats[-1] if self.final_layer is None else self.final_layer(feats[-1])
        heatmaps = self._flat_softmax(logits * self.beta)
        coords = torch.cat([self._linear_expectation(heatmaps, self.linspace_x),
                            self._linear_expectation(heatmaps, self.linspace_y)], dim=-1)
        labels = torch.cat([d.gt_instance_labels.keypoint_labels for d in batch_data_samples])
        weights = torch.cat([d.gt_instance_labels.keypoint_weights for d in batch_data_samples])
        # joints pushed off the crop by augmentation cannot be located on the map: leave them out
        weights = weights * ((labels >= 0) & (labels < 1)).all(-1).to(weights.dtype)
        hm_size = labels.new_tensor(self.heatmap_size)  # (W, H)
        target_px = labels * hm_size

        log_probs = F.log_softmax((logits * self.beta).flatten(2), dim=-1)
        targets = bilinear_onehot_targets(target_px, self.heatmap_size)
        loss_heatmap = (-(targets * log_probs).sum(-1) * weights).mean()
        loss_coord = self.loss_module(coords * hm_size, target_px, weights)

        _, avg_acc, _ = keypoint_pck_accuracy(
            pred=to_numpy(coords), gt=to_numpy(labels), mask=to_numpy(weights) > 0, thr=0.05,
            norm_factor=np.ones((coords.size(0), 2), dtype=np.float32))
        return dict(loss_heatmap=loss_heatmap * self.heatmap_loss_weight, loss_coord=loss_coord,
                    acc_pose=torch.tensor(avg_acc, device=labels.device))


@MODELS.register_module()
class PoseFixResNet(ResNet):
    """ResNet whose first convolution takes the image plus one coarse-pose map per joint.

    With ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` the ImageNet weights (torchvision or mmpose key
    names, optionally under ``backbone.``) are loaded into the image channels of ``conv1``; the pose channels
    start at zero, so the pretrained network's behaviour on the image is kept at the start of training.

    Args:
        num_pose_channels (int): number of joints (16 for LIP).
        **kwargs: as :class:`mmpose.models.backbones.ResNet` (``in_channels`` is the image's, 3).
    """

    def __init__(self, depth: int, num_pose_channels: int = 16, in_channels: int = 3, **kwargs):
        self.image_channels = in_channels
        self.num_pose_channels = num_pose_channels
        super().__init__(depth, in_channels=in_channels + num_pose_channels, **kwargs)

    def init_weights(self):
        init_cfg = self.init_cfg
        if not (isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        from lip_toolkit.core.pretrained import load_pretrained

        state = load_pretrained(init_cfg['checkpoint'])  # a published name (torchvision://) or a local file
        state = state.get('state_dict', state)
        prefix = init_cfg.get('prefix', 'backbone.')
        if any(key.startswith(prefix) for key in state):
            state = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
        conv1 = state.get('conv1.weight')
        if conv1 is None or conv1.shape[1] != self.image_channels:
            raise LipToolkitError(f'no {self.image_channels}-channel conv1.weight to expand', init_cfg['checkpoint'])
        pose = conv1.new_zeros(conv1.shape[0], self.num_pose_channels, *conv1.shape[2:])
        state['conv1.weight'] = torch.cat([conv1, pose], dim=1)
        own = self.state_dict()
        state = {key: value for key, value in state.items() if key in own and own[key].shape == value.shape}
        missing = sorted(set(own) - set(state))
        self.load_state_dict(state, strict=False)
        print_log(f'PoseFixResNet: loaded {len(state)} pretrained tensors from {init_cfg["checkpoint"]}'
                  + (f'; {len(missing)} left at init: {missing[:5]}' if missing else ''), logger='current')
        self._is_init = True


@MODELS.register_module()
class PoseFixEstimator(TopdownPoseEstimator):
    """Top-down estimator whose input is the image plus the coarse pose to refine.

    The coarse pose comes with each sample (``transformed_coarse_keypoints`` and ``coarse_keypoints_visible`` in
    its metainfo, see ``SynthesizeCoarsePose`` / ``CoarsePoseToInput`` / ``PackPoseFixInputs``) and is rendered
    here, after normalisation, so that flip testing can mirror it and swap its left and right joints.

    Args:
        coarse_pose_sigma (float): Gaussian sigma in input pixels (reference: 7 at 256x192, 9 at 384x288).
        coarse_pose_peak (float, optional): map value at a joint. The reference adds maps peaking at 255 to
            mean-subtracted (unscaled) pixels; ours are divided by the preprocessor's std, so by default the maps
            are too (255 / mean std).
        **kwargs: as :class:`mmpose.models.pose_estimators.TopdownPoseEstimator`.
    """

    def __init__(self, *args, coarse_pose_sigma: float = 9.0, coarse_pose_peak: Optional[float] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.coarse_pose_sigma = coarse_pose_sigma
        if coarse_pose_peak is None:
            std = getattr(self.data_preprocessor, 'std', None)
            coarse_pose_peak = 255.0 / float(std.mean()) if std is not None else 255.0
        self.coarse_pose_peak = coarse_pose_peak

    def _with_pose_maps(self, inputs: Tensor, data_samples, flip: bool = False) -> Tensor:
        """Concatenate the rendered coarse pose to the (optionally mirrored) images."""
        try:
            coarse = np.stack([np.asarray(d.metainfo['transformed_coarse_keypoints'], np.float32).reshape(-1, 2)
                               for d in data_samples])
            visible = np.stack([np.asarray(d.metainfo['coarse_keypoints_visible'], np.float32).reshape(-1)
                                for d in data_samples])
        except KeyError as missing:
            raise LipToolkitError(f'PoseFix needs a coarse pose per sample ({missing.args[0]} is missing): use '
                                  'SynthesizeCoarsePose or CoarsePoseToInput and PackPoseFixInputs in the '
                                  'pipeline') from None
        coarse = inputs.new_tensor(coarse)
        visible = inputs.new_tensor(visible)
        height, width = inputs.shape[-2:]
        if flip:
            flip_indices = data_samples[0].metainfo['flip_indices']
            inputs = inputs.flip(-1)
            coarse = coarse[:, flip_indices]
            visible = visible[:, flip_indices]
            coarse = torch.stack([width - 1 - coarse[..., 0], coarse[..., 1]], dim=-1)
        maps = render_pose_maps(coarse, visible, (width, height), self.coarse_pose_sigma, self.coarse_pose_peak)
        return torch.cat([inputs, maps], dim=1)

    def loss(self, inputs: Tensor, data_samples) -> dict:
        feats = self.extract_feat(self._with_pose_maps(inputs, data_samples))
        losses = dict()
        if self.with_head:
            losses.update(self.head.loss(feats, data_samples, train_cfg=self.train_cfg))
        return losses

    def predict(self, inputs: Tensor, data_samples):
        if self.test_cfg.get('flip_test', False):
            feats = [self.extract_feat(self._with_pose_maps(inputs, data_samples)),
                     self.extract_feat(self._with_pose_maps(inputs, data_samples, flip=True))]
        else:
            feats = self.extract_feat(self._with_pose_maps(inputs, data_samples))
        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg)
        instances, fields = preds if isinstance(preds, tuple) else (preds, None)
        return self.add_pred_to_datasample(instances, fields, data_samples)

    def _forward(self, inputs: Tensor, data_samples=None):
        if data_samples is None:
            raise LipToolkitError('PoseFix needs data samples carrying the coarse pose')
        return self.head.forward(self.extract_feat(self._with_pose_maps(inputs, data_samples)))
