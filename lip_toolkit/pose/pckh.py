"""LIP PCKh, exactly as the public LIP evaluators compute it (lip-facts.md section 2): the vectorised numpy
scorer. Pure numpy on purpose: offline scoring (``lip-toolkit evaluate pose``) must not pay for importing
torch or mmpose. :class:`lip_toolkit.pose.metrics.LIPPCKhMetric` wraps the same function for configs.
"""
from typing import Dict

import numpy as np

NUM_JOINTS = 16
NECK, HEAD_TOP = 8, 9
#: Reported part -> the two LIP joints averaged for it (right, left); the order LIP papers print.
PART_JOINTS = {
    'Head': (8, 9),
    'Shoulder': (12, 13),
    'Elbow': (11, 14),
    'Wrist': (10, 15),
    'Hip': (2, 3),
    'Knee': (1, 4),
    'Ankle': (0, 5),
}
UPPER_BODY_JOINTS = tuple(range(8, 16))
#: Joints pooled into "Mean": all but pelvis (6) and spine (7).
MEAN_JOINTS = tuple(range(0, 6)) + tuple(range(8, 16))
#: Keys of the result, in print order (then ``per_joint``).
SUMMARY_KEYS = tuple(PART_JOINTS) + ('UBody', 'Mean')


def compute_lip_pckh(gt: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> Dict[str, object]:
    """Score predictions against LIP ground truth with the LIP PCKh rules.

    The rules: head size is the distance between ground-truth head top (9) and neck (8); an image where either
    is unlabelled (or where they coincide) is left out. Unlabelled (``nan``) ground-truth joints are left out;
    occluded ones are scored. A missing (``nan``) or negative predicted coordinate counts as 1, so a missing
    joint is scored at pixel (1, 1). A joint is correct when distance / head size <= ``threshold``.

    Args:
        gt: ground truth, (N, 16, 2) or (N, 16, 3) (x, y[, v]); ``nan`` = unlabelled.
        pred: predictions, (N, 16, 2) or more values per joint (only x, y are used), rows aligned with ``gt``.
        threshold: the PCKh threshold, in head sizes.

    Returns:
        dict with percentages: ``Head``, ``Shoulder``, ``Elbow``, ``Wrist``, ``Hip``, ``Knee``, ``Ankle``
        (each the mean of the right and left joint), ``UBody`` (joints 8-15 pooled), ``Mean`` (joints 0-5 and
        8-15 pooled) and ``per_joint`` (16 values). A value with nothing to score is ``nan``.

    Note:
        - N: number of images; 16 joints in LIP (MPII) order.

    Examples:
        >>> gt = np.full((1, 16, 3), np.nan)
        >>> gt[0, 8] = (10, 10, 0); gt[0, 9] = (10, 20, 0); gt[0, 0] = (30, 30, 1)
        >>> pred = gt[..., :2].copy(); pred[0, 0] = (33, 34)  # 5 px off, exactly half a head
        >>> scores = compute_lip_pckh(gt, pred)
        >>> scores['per_joint'][0], scores['Mean']
        (100.0, 100.0)
    """
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if gt.ndim != 3 or gt.shape[1:2] != (NUM_JOINTS,) or gt.shape[2] < 2:
        raise ValueError(f'gt must have shape (N, {NUM_JOINTS}, 2 or 3), got {gt.shape}')
    if pred.ndim != 3 or pred.shape[:2] != gt.shape[:2] or pred.shape[2] < 2:
        raise ValueError(f'pred must have shape {gt.shape[:2] + (2,)}, got {pred.shape}')
    gt_xy = gt[..., :2]
    pred_xy = pred[..., :2]
    # The reference reads nan as -1 and then moves every negative prediction to 1.
    pred_xy = np.where(np.isnan(pred_xy) | (pred_xy < 0), 1.0, pred_xy)
    labelled = ~(np.isnan(gt_xy) | (gt_xy < 0)).any(axis=2)

    head_size = _norm(gt_xy[:, HEAD_TOP] - gt_xy[:, NECK])
    has_head = labelled[:, HEAD_TOP] & labelled[:, NECK] & (head_size > 0)
    scored = labelled & has_head[:, None]
    with np.errstate(invalid='ignore', divide='ignore'):
        distance = _norm(pred_xy - gt_xy) / head_size[:, None]
    correct = scored & (distance <= threshold)

    per_joint = _percent(correct.sum(axis=0), scored.sum(axis=0))
    result: Dict[str, object] = {}
    for part, (right, left) in PART_JOINTS.items():
        result[part] = float((per_joint[right] + per_joint[left]) / 2.0)
    for key, joints in (('UBody', UPPER_BODY_JOINTS), ('Mean', MEAN_JOINTS)):
        joints = list(joints)
        result[key] = float(_percent(correct[:, joints].sum(), scored[:, joints].sum()))
    result['per_joint'] = [float(v) for v in per_joint]
    return result


def count_scored_images(gt: np.ndarray) -> int:
    """How many images of ``gt`` (N, 16, 2|3) have a usable head size (labelled, distinct head top and neck)."""
    gt_xy = np.asarray(gt, dtype=np.float64)[..., :2]
    labelled = ~(np.isnan(gt_xy) | (gt_xy < 0)).any(axis=2)
    head_size = _norm(gt_xy[:, HEAD_TOP] - gt_xy[:, NECK])
    return int((labelled[:, HEAD_TOP] & labelled[:, NECK] & (head_size > 0)).sum())


def _norm(vectors: np.ndarray) -> np.ndarray:
    # Same arithmetic as np.linalg.norm(..., axis=-1) for 2-vectors, without its overhead.
    return np.sqrt(vectors[..., 0] * vectors[..., 0] + vectors[..., 1] * vectors[..., 1])


def _percent(hits, total):
    hits = np.asarray(hits, dtype=np.float64)
    total = np.asarray(total, dtype=np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        # 100 * (hits / total): the reference's 100 * np.mean(...), to the last bit.
        return np.where(total > 0, 100.0 * (hits / np.maximum(total, 1)), np.nan)
