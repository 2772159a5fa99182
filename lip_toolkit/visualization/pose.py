"""Draw LIP's 16-joint skeleton on an image: left limbs, right limbs and the body axis in different colours.

Keypoints follow the LIP CSV: ``(16, 3)`` rows of ``x, y, v`` with ``v = 0`` visible, ``v = 1`` labelled but
occluded, ``nan`` unlabelled; or ``(16, 2)`` predictions without a flag. Visible joints are filled discs,
occluded joints hollow rings; unlabelled joints and the limbs touching them are left out, and so are predicted
joints whose confidence is below a threshold (``kpt_thr``, as MMPose's visualiser does).
"""
from typing import Optional, Sequence, Tuple

import numpy as np

#: Joint names in LIP (= MPII) order.
#: Predicted joints scoring below this are not drawn: MMPose's default (``PoseLocalVisualizer``, its demos'
#: ``--kpt-thr``). A tiny or half-trained model's heatmap maxima are mostly far below it.
DEFAULT_KPT_THR = 0.3

LIP_JOINT_NAMES = ('R_Ankle', 'R_Knee', 'R_Hip', 'L_Hip', 'L_Knee', 'L_Ankle', 'B_Pelvis', 'B_Spine', 'B_Neck',
                   'B_Head', 'R_Wrist', 'R_Elbow', 'R_Shoulder', 'L_Shoulder', 'L_Elbow', 'L_Wrist')

# BGR colours. Orange for the person's right side, blue for the left, green for the body axis: the usual
# MMPose convention, so pictures read the same as MMPose's.
RIGHT_COLOR = (0, 128, 255)
LEFT_COLOR = (255, 128, 0)
CENTER_COLOR = (0, 200, 0)

RIGHT_JOINTS = (0, 1, 2, 10, 11, 12)
LEFT_JOINTS = (3, 4, 5, 13, 14, 15)

#: Limbs as joint index pairs. Shoulders hang from the neck: LIP's spine joint sits well below the shoulders.
LIP_SKELETON = (
    (0, 1), (1, 2), (2, 6),            # right leg to pelvis
    (5, 4), (4, 3), (3, 6),            # left leg to pelvis
    (6, 7), (7, 8), (8, 9),            # pelvis, spine, neck, head top
    (10, 11), (11, 12), (12, 8),       # right arm to neck
    (15, 14), (14, 13), (13, 8),       # left arm to neck
)


def joint_color(joint: int) -> Tuple[int, int, int]:
    """The BGR colour of a joint: right side, left side or body axis."""
    if joint in RIGHT_JOINTS:
        return RIGHT_COLOR
    if joint in LEFT_JOINTS:
        return LEFT_COLOR
    return CENTER_COLOR


def limb_color(limb: Tuple[int, int]) -> Tuple[int, int, int]:
    """A limb takes the colour of its side (hip to pelvis and shoulder to neck included); the body axis is green."""
    sides = [joint_color(j) for j in limb if joint_color(j) != CENTER_COLOR]
    return sides[0] if sides else CENTER_COLOR


def drawing_sizes(height: int, width: int) -> Tuple[int, float]:
    """Limb line width (pixels) and joint radius (pixels, fractional) for an image of this size.

    Both are proportional to the image diagonal, so a skeleton covers the same share of a thumbnail and of a
    large photo: 1 px lines and 3 px joints on a 120 x 200 LIP crop, 25 px and 62 px on a 3000 x 4000 photo.
    Lines are at least 1 px and joints 1.5 px, so that the smallest pictures still show them.
    """
    diagonal = float(np.hypot(height, width))
    return max(1, int(round(diagonal / 200))), max(1.5, diagonal / 80)


def _validate(keypoints) -> np.ndarray:
    points = np.asarray(keypoints, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != 16 or points.shape[1] not in (2, 3):
        raise ValueError(f'expected LIP keypoints of shape (16, 2) or (16, 3), got {points.shape}')
    return points


def draw_pose(image: np.ndarray, keypoints, thickness: Optional[int] = None, radius: Optional[float] = None,
              joints: Optional[Sequence[int]] = None, scores=None, kpt_thr: Optional[float] = None) -> np.ndarray:
    """Return a copy of ``image`` with the LIP skeleton drawn on it.

    Args:
        image: ``H x W x 3`` uint8 BGR picture (left untouched).
        keypoints: ``(16, 3)`` ``x, y, v`` (``v`` 0 visible, 1 occluded) or ``(16, 2)`` ``x, y``; ``nan`` marks
            an unlabelled joint, which is skipped with its limbs.
        thickness: limb line width in pixels; default scales with the image (:func:`drawing_sizes`).
        radius: joint radius in pixels (quarter pixels are drawn); default scales with the image.
        joints: draw only these joint indices (and limbs between them); default all 16.
        scores: ``(16,)`` confidences of predicted joints (with ``kpt_thr``).
        kpt_thr: joints whose score is below this (or not a number) are left out with their limbs, as MMPose's
            ``kpt_thr`` does; ``None`` draws every joint. Needs ``scores``.

    Returns:
        The drawn ``H x W x 3`` uint8 copy.

    Note:
        Visible joints are filled discs with a dark outline; occluded joints (``v == 1``) are hollow rings of
        their side's colour, so the two stay distinguishable in any colour scheme.
    """
    import cv2
    points = _validate(keypoints)
    canvas = np.ascontiguousarray(image, dtype=np.uint8).copy()
    default_thickness, default_radius = drawing_sizes(*canvas.shape[:2])
    thickness = default_thickness if thickness is None else int(thickness)
    radius = default_radius if radius is None else float(radius)
    selected = set(range(16) if joints is None else joints)
    if kpt_thr is not None:
        if scores is None:
            raise ValueError('kpt_thr needs the joint scores')
        confidence = np.asarray(scores, dtype=np.float64).reshape(-1)
        if confidence.shape != (16, ):
            raise ValueError(f'expected 16 joint scores, got shape {np.shape(scores)}')
        # nan scores compare False: such joints are not drawn either.
        selected &= {j for j in range(16) if confidence[j] >= kpt_thr}
    labelled = [bool(np.all(np.isfinite(points[j, :2]))) and j in selected for j in range(16)]
    occluded = [points.shape[1] == 3 and np.isfinite(points[j, 2]) and points[j, 2] >= 1 for j in range(16)]
    # cv2 draws with integer coordinates; shift=2 keeps quarter-pixel precision (positions and radii).
    shift = 2
    radius_fixed = max(1, int(round(radius * (1 << shift))))
    fixed = [tuple(int(round(v * (1 << shift))) for v in points[j, :2]) if labelled[j] else None
             for j in range(16)]
    for limb in LIP_SKELETON:
        if labelled[limb[0]] and labelled[limb[1]]:
            cv2.line(canvas, fixed[limb[0]], fixed[limb[1]], limb_color(limb), thickness, cv2.LINE_AA, shift)
    for joint in range(16):
        if not labelled[joint]:
            continue
        color = joint_color(joint)
        if occluded[joint]:
            ring = max(1, int(radius // 3))
            cv2.circle(canvas, fixed[joint], radius_fixed, color, ring, cv2.LINE_AA, shift)
        else:
            cv2.circle(canvas, fixed[joint], radius_fixed, color, -1, cv2.LINE_AA, shift)
            cv2.circle(canvas, fixed[joint], radius_fixed, (40, 40, 40), 1, cv2.LINE_AA, shift)
    return canvas
