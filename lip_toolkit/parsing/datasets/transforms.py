"""Training transforms for LIP parsing: CE2P's random scale/rotation/crop, and the flip that swaps left and right.

Edge targets for CE2P come from MMSeg's ``GenerateEdge`` unchanged: it is CE2P's ``generate_edge`` (a pixel is
marked where its label differs from its lower, left-hand or diagonal neighbour, neither being 255, then a 3x3
dilation for ``edge_width=3``), which ``tests/parsing/test_transforms.py`` checks against an independent
implementation. Put it after the affine and flip transforms (as CE2P computes edges on the final crop).
"""
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.datasets.transforms import RandomFlip
from mmseg.registry import TRANSFORMS

from ..classes import IGNORE_INDEX, LIP_FLIP_PAIRS


@TRANSFORMS.register_module()
class LIPRandomAffine(BaseTransform):
    """Warp the whole image into a fixed-size crop with a random scale and rotation, padding labels with 255.

    As in CE2P's training data: the image box is widened to the crop's aspect ratio (never stretched), scaled by
    ``s = clip(1 + N(0,1) * scale_factor, 1 - scale_factor, 1 + scale_factor)`` (s > 1 shows more context,
    smaller person), rotated with probability ``rotation_prob`` by ``clip(N(0,1) * rotation_factor,
    -2 * rotation_factor, 2 * rotation_factor)`` degrees, and centred in the crop. The image is resampled
    bilinearly, label maps by nearest neighbour so no new class ids appear; outside the source the image gets
    ``img_pad_val`` and labels get ``seg_pad_val`` (ignored by the loss and the metric).

    Required keys: ``img``, ``gt_seg_map`` and the other ``seg_fields`` (optional).
    Modified keys: ``img``, ``img_shape``, every key in ``seg_fields``. Added key: ``lip_affine`` (the 2x3 matrix).

    Args:
        crop_size: output ``(height, width)``.
        scale_factor: spread of the random scale (CE2P: 0.25).
        rotation_factor: spread of the random rotation in degrees (CE2P: 30).
        rotation_prob: probability of rotating at all (CE2P: 0.6).
        img_pad_val: image fill outside the source.
        seg_pad_val: label fill outside the source (255).
    """

    def __init__(self, crop_size: Tuple[int, int] = (473, 473), scale_factor: float = 0.25,
                 rotation_factor: float = 30.0, rotation_prob: float = 0.6, img_pad_val=0,
                 seg_pad_val: int = IGNORE_INDEX) -> None:
        super().__init__()
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'crop_size must be (height, width) > 0, got {crop_size}')
        if not 0 <= scale_factor < 1:
            raise ValueError(f'scale_factor must be in [0, 1), got {scale_factor}')
        if not 0 <= rotation_prob <= 1:
            raise ValueError(f'rotation_prob must be in [0, 1], got {rotation_prob}')
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.scale_factor = float(scale_factor)
        self.rotation_factor = float(rotation_factor)
        self.rotation_prob = float(rotation_prob)
        self.img_pad_val = img_pad_val
        self.seg_pad_val = seg_pad_val

    @cache_randomness
    def _random_scale_and_rotation(self) -> Tuple[float, float]:
        scale = float(np.clip(1 + np.random.randn() * self.scale_factor,
                              1 - self.scale_factor, 1 + self.scale_factor))
        rotation = 0.0
        if np.random.rand() < self.rotation_prob:
            rotation = float(np.clip(np.random.randn() * self.rotation_factor,
                                     -2 * self.rotation_factor, 2 * self.rotation_factor))
        return scale, rotation

    def affine_matrix(self, height: int, width: int, scale: float, rotation: float) -> np.ndarray:
        """The 2x3 matrix taking source pixel coordinates to crop coordinates.

        Args:
            height, width: source image size.
            scale: source box size relative to the whole image (widened to the crop's aspect ratio).
            rotation: degrees, counter-clockwise on screen (OpenCV's convention).
        """
        out_h, out_w = self.crop_size
        box_w, box_h = float(width), float(height)
        if box_w * out_h > box_h * out_w:  # wider than the crop: grow the height, never stretch
            box_h = box_w * out_h / out_w
        else:
            box_w = box_h * out_w / out_h
        zoom = out_w / (box_w * scale)
        centre = ((width - 1) / 2.0, (height - 1) / 2.0)
        matrix = cv2.getRotationMatrix2D(centre, rotation, zoom)
        matrix[0, 2] += (out_w - 1) / 2.0 - centre[0]
        matrix[1, 2] += (out_h - 1) / 2.0 - centre[1]
        return matrix

    def transform(self, results: Dict) -> Dict:
        image = results['img']
        height, width = image.shape[:2]
        scale, rotation = self._random_scale_and_rotation()
        matrix = self.affine_matrix(height, width, scale, rotation)
        out_size = (self.crop_size[1], self.crop_size[0])
        pad = self.img_pad_val
        if image.ndim == 3 and not isinstance(pad, (tuple, list)):
            pad = (pad,) * image.shape[2]
        results['img'] = cv2.warpAffine(image, matrix, out_size, flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=pad)
        for key in results.get('seg_fields', []):
            if results.get(key) is not None:
                results[key] = self._warp_label(results[key], matrix, out_size)
        results['img_shape'] = self.crop_size
        results['lip_affine'] = matrix
        return results

    def _warp_label(self, label: np.ndarray, matrix: np.ndarray, out_size) -> np.ndarray:
        dtype = label.dtype
        # warpAffine has no int64 path; labels fit in uint8 (LIP) or int32 anyway
        work = label.astype(np.uint8 if label.max(initial=0) <= 255 and label.min(initial=0) >= 0 else np.int32)
        warped = cv2.warpAffine(work, matrix, out_size, flags=cv2.INTER_NEAREST,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=self.seg_pad_val)
        return warped.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, scale_factor={self.scale_factor}, '
                f'rotation_factor={self.rotation_factor}, rotation_prob={self.rotation_prob}, '
                f'img_pad_val={self.img_pad_val}, seg_pad_val={self.seg_pad_val})')


@TRANSFORMS.register_module()
class LIPRandomFlip(RandomFlip):
    """Horizontal flip that also swaps LIP's left/right labels (arms 14-15, legs 16-17, shoes 18-19).

    MMSeg's ``RandomFlip`` with ``swap_seg_labels`` does the image and label part; this subclass fixes the
    direction to horizontal (a vertical flip would need no swap, yet the parent would swap anyway) and also
    mirrors an edge map (``gt_edge_map``) that was made before the flip, which the parent would leave unflipped.

    Args:
        prob: flip probability (CE2P: 0.5).
        swap_pairs: label pairs exchanged by the flip (default :data:`LIP_FLIP_PAIRS`).
    """

    def __init__(self, prob: float = 0.5, swap_pairs: Sequence[Sequence[int]] = LIP_FLIP_PAIRS) -> None:
        super().__init__(prob=float(prob), direction='horizontal',
                         swap_seg_labels=[tuple(pair) for pair in swap_pairs])

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        edge = results.get('gt_edge_map')
        if edge is not None and 'gt_edge_map' not in results.get('seg_fields', []):
            results['gt_edge_map'] = np.ascontiguousarray(edge[:, ::-1])

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, swap_pairs={self.swap_seg_labels})'
