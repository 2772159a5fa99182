"""Keypoint conversion into LIP's 16 joints for mixed-dataset training, and faster training-target pieces.

:class:`LIPRandomBBoxTransform` and :class:`LIPMSRAHeatmap` do exactly what MMPose's ``RandomBBoxTransform`` and
``MSRAHeatmap`` encoding do, faster (``python benchmarks/bench_pipelines.py --profile pose-384x288-ours`` shows
where a training sample's time goes): scipy's ``truncnorm.rvs`` costs about 0.35 ms a call and the Gaussian
targets 0.6 ms (a Python loop over the 16 joints), of about 4 ms a 384x288 sample.
"""
from typing import List, Optional

import numpy as np
from mmpose.codecs import MSRAHeatmap
from mmpose.datasets.transforms import KeypointConverter, RandomBBoxTransform
from mmpose.registry import KEYPOINT_CODECS, TRANSFORMS

#: LIP's flip indices: joint i mirrors to LIP_FLIP_INDICES[i] (pairs (0,5) (1,4) (2,3) (10,15) (11,14) (12,13)).
LIP_FLIP_INDICES = [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]


@TRANSFORMS.register_module()
class LIPKeypointConverter(KeypointConverter):
    """MMPose's :class:`KeypointConverter`, leaving the sample with the target dataset's flip indices.

    MMPose's converter rewrites ``flip_indices`` from the source dataset's when the mapping has a midpoint
    entry, and fails with an IndexError when the mapping has more entries than the source has joints (AI
    Challenger: 14 joints, 15 entries with the mid-hip pelvis). The converted sample is in the target's joint
    space, so its flip indices are the target's; this subclass sets them and converts as MMPose does.

    Args:
        num_keypoints: joints of the target (16 for LIP).
        mapping: ``(source, target)`` or ``((source_a, source_b), target)`` entries, as for MMPose.
        flip_indices: the target's flip indices; default LIP's.
    """

    def __init__(self, num_keypoints: int, mapping: list, flip_indices: Optional[List[int]] = None):
        super().__init__(num_keypoints=num_keypoints, mapping=mapping)
        self.flip_indices = list(LIP_FLIP_INDICES if flip_indices is None else flip_indices)
        if len(self.flip_indices) != num_keypoints:
            raise ValueError(f'{len(self.flip_indices)} flip indices for {num_keypoints} keypoints')

    def transform(self, results: dict) -> dict:
        results.pop('flip_indices', None)
        results = super().transform(results)
        results['flip_indices'] = list(self.flip_indices)
        return results


@TRANSFORMS.register_module()
class LIPRandomBBoxTransform(RandomBBoxTransform):
    """MMPose's :class:`RandomBBoxTransform` (same arguments, same distributions) with a faster sampler.

    The shift, scale and rotation draws come from a standard normal truncated to [low, high]. MMPose draws them
    with ``scipy.stats.truncnorm.rvs``, whose per-call overhead is larger than the whole draw; here they are
    drawn from numpy's global generator by rejection (redraw the values outside the bounds), which gives the
    same distribution.
    """

    @staticmethod
    def _truncnorm(low: float = -1., high: float = 1., size: tuple = ()) -> np.ndarray:
        if not low < high:
            raise ValueError(f'empty truncation interval [{low}, {high}]')
        values = np.asarray(np.random.standard_normal(size), dtype=np.float64)
        outside = (values < low) | (values > high)
        while outside.any():  # 32 % of draws for [-1, 1]: a few rounds at most
            values[outside] = np.random.standard_normal(int(outside.sum()))
            outside = (values < low) | (values > high)
        return values.astype(np.float32)


@KEYPOINT_CODECS.register_module()
class LIPMSRAHeatmap(MSRAHeatmap):
    """MMPose's :class:`MSRAHeatmap` with the Gaussian targets built for all joints at once.

    The targets equal MMPose's ``generate_gaussian_heatmaps`` (same 3-sigma windows, centres, border clipping
    and weights; values agree to float32 rounding) but come from one outer product of per-joint row and column
    Gaussians instead of a Python loop over joints. Decoding is MMPose's. Use it as the training pipeline's
    ``GenerateTarget`` encoder; the unbiased (DARK) variant and multi-instance input fall back to MMPose's code.
    """

    def encode(self, keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray] = None) -> dict:
        if self.unbiased or keypoints.shape[0] != 1:
            return super().encode(keypoints, keypoints_visible)
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        heatmaps, weights = gaussian_heatmaps_vectorised(self.heatmap_size, keypoints / self.scale_factor,
                                                         keypoints_visible, self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)


def gaussian_heatmaps_vectorised(heatmap_size, keypoints: np.ndarray, keypoints_visible: np.ndarray,
                                 sigma: float):
    """MMPose's ``generate_gaussian_heatmaps`` for one instance, without a loop over joints.

    Args:
        heatmap_size: (W, H).
        keypoints: (1, K, 2) in heatmap pixels.
        keypoints_visible: (1, K).
        sigma: Gaussian sigma in heatmap pixels.

    Returns:
        ``(heatmaps (K, H, W) float32, keypoint_weights (1, K))``.
    """
    width, height = heatmap_size
    radius = sigma * 3
    centre = (2 * radius + 1) // 2  # where MMPose's Gaussian patch peaks, from the patch's corner
    weights = keypoints_visible.copy()
    mu = (keypoints[0, :, :2] + 0.5).astype(np.int64)
    corner = (mu - radius).astype(np.int64)              # left, top (MMPose truncates the same way)
    end = (mu + radius + 1).astype(np.int64)             # right, bottom (exclusive)
    labelled = keypoints_visible[0] >= 0.5
    inside = ~((corner[:, 0] >= width) | (corner[:, 1] >= height) | (end[:, 0] < 0) | (end[:, 1] < 0))
    weights[0, labelled & ~inside] = 0
    drawn = labelled & inside

    def profile(length: int, axis: int) -> np.ndarray:
        pixels = np.arange(length, dtype=np.float32)[None]
        offset = pixels - (corner[:, axis:axis + 1] + centre).astype(np.float32)
        values = np.exp(-offset ** 2 / np.float32(2 * sigma ** 2)).astype(np.float32)
        window = (pixels >= corner[:, axis:axis + 1]) & (pixels < end[:, axis:axis + 1])
        return np.where(window & drawn[:, None], values, np.float32(0))

    heatmaps = profile(height, 1)[:, :, None] * profile(width, 0)[:, None, :]
    return heatmaps.astype(np.float32, copy=False), weights
