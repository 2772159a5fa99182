"""Test-time geometry of CE2P and SCHP: the whole image affinely warped onto the network's input and back.

Both references (``evaluate.py`` of liutinglt/CE2P and GoGoDuck912/Self-Correction-Human-Parsing) describe an image
of ``w x h`` pixels by the box ``[0, 0, w - 1, h - 1]``: its centre ``((w-1)/2, (h-1)/2)`` and its extent widened to
the input's aspect ratio. An affine warp (bilinear, zero border, no rotation) maps that box onto the input; the
label map predicted there is warped back onto the original image with nearest-neighbour sampling (border label 0).

The two differ in where they anchor the input:

=========  ==============================  ============================================
reference  input centre                    scale (input pixels per image pixel)
=========  ==============================  ============================================
``ce2p``   ``(W/2, H/2)``                  ``W / extent``
``schp``   ``((W-1)/2, (H-1)/2)``          ``(W-1) / extent``
=========  ==============================  ============================================

and both warp the prediction back with the box centre truncated to whole pixels: their evaluation code stores the
centres in an ``int32`` array before it calls the inverse warp. The matrices here are built from the same three
points with ``cv2.getAffineTransform`` in float32, so they equal the references' bit for bit.

Warping *logits* back with nearest neighbour picks, for every original pixel, one input pixel for all classes at
once, so the argmax of the warped logits is the references' warped argmax exactly; the logits are kept so that
ensembles can average them.
"""
from typing import Tuple

import numpy as np

from ..core.errors import LipToolkitError

REFERENCE_WARPS = ('ce2p', 'schp')


def _box_centre_and_extent(image_hw: Tuple[int, int], input_hw: Tuple[int, int]) -> Tuple[np.ndarray, float]:
    """Centre (float32, x/y) of the box ``[0, 0, w-1, h-1]`` and its width once widened to the input's aspect."""
    height, width = image_hw
    box_w, box_h = float(width - 1), float(height - 1)
    aspect = input_hw[1] / input_hw[0]
    centre = np.array([box_w * 0.5, box_h * 0.5], dtype=np.float32)
    extent = box_w if box_w >= aspect * box_h else box_h * aspect
    if extent <= 0:
        raise LipToolkitError(f'a {width}x{height} image is too small for the reference warp')
    return centre, float(np.float32(extent))


def _three_points(centre, half_width: float) -> np.ndarray:
    """The centre, a point half a width above it, and one half a width left of that (what fixes the affine)."""
    centre = np.asarray(centre, dtype=np.float32)
    points = np.zeros((3, 2), dtype=np.float32)
    points[0] = centre
    points[1] = centre + np.array([0.0, -half_width], dtype=np.float32)
    points[2] = points[1] + np.array([-half_width, 0.0], dtype=np.float32)
    return points


def _input_points(input_hw: Tuple[int, int], warp: str) -> np.ndarray:
    input_h, input_w = input_hw
    if warp == 'ce2p':
        return _three_points((input_w * 0.5, input_h * 0.5), input_w * 0.5)
    return _three_points(((input_w - 1) * 0.5, (input_h - 1) * 0.5), (input_w - 1) * 0.5)


def check_warp(warp: str) -> str:
    if warp not in REFERENCE_WARPS:
        raise LipToolkitError(f'warp must be one of {", ".join(REFERENCE_WARPS)}, got {warp!r}')
    return warp


def forward_matrix(image_hw: Tuple[int, int], input_hw: Tuple[int, int], warp: str) -> np.ndarray:
    """2x3 matrix taking original-image pixels to input pixels (for ``cv2.warpAffine`` onto the input)."""
    import cv2
    centre, extent = _box_centre_and_extent(image_hw, input_hw)
    return cv2.getAffineTransform(_three_points(centre, extent * 0.5), _input_points(input_hw, check_warp(warp)))


def backward_matrix(image_hw: Tuple[int, int], input_hw: Tuple[int, int], warp: str) -> np.ndarray:
    """2x3 matrix taking input pixels to original-image pixels, with the references' whole-pixel centre."""
    import cv2
    centre, extent = _box_centre_and_extent(image_hw, input_hw)
    centre = centre.astype(np.int32).astype(np.float32)
    return cv2.getAffineTransform(_input_points(input_hw, check_warp(warp)), _three_points(centre, extent * 0.5))


def warp_image(image: np.ndarray, input_hw: Tuple[int, int], warp: str) -> np.ndarray:
    """The network input: ``image`` (H, W, 3) warped onto ``input_hw`` (bilinear, zero border)."""
    import cv2
    matrix = forward_matrix(image.shape[:2], input_hw, warp)
    return cv2.warpAffine(image, matrix, (int(input_hw[1]), int(input_hw[0])), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def backward_index_map(image_hw: Tuple[int, int], input_hw: Tuple[int, int], warp: str) -> np.ndarray:
    """For every original pixel, the flat index of the input pixel the references take its label from (-1: none).

    OpenCV's own nearest-neighbour warp is applied to a map of indices (exact in float32 below 2**24), so the
    sampling, rounding included, is the references' ``cv2.warpAffine(..., INTER_NEAREST)``.
    """
    import cv2
    input_h, input_w = int(input_hw[0]), int(input_hw[1])
    if input_h * input_w >= 2 ** 24:
        raise LipToolkitError(f'input size {input_hw} is too large for the reference warp')
    indices = np.arange(input_h * input_w, dtype=np.float32).reshape(input_h, input_w)
    height, width = image_hw
    mapped = cv2.warpAffine(indices, backward_matrix(image_hw, input_hw, warp), (int(width), int(height)),
                            flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)
    return mapped.astype(np.int64)
