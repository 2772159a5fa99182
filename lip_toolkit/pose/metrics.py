"""LIP PCKh, exactly as the public LIP evaluators compute it (lip-facts.md section 2).

:func:`compute_lip_pckh` is the vectorised numpy scorer; :class:`LIPPCKhMetric` is the same computation as an
MMPose metric for configs (``val_evaluator = dict(type='LIPPCKhMetric')``). Both give identical numbers on the
same data: the metric reads the raw ground truth (``nan`` included) that :class:`LIPPoseDataset` stores in
each sample's ``raw_ann_info``, not MMPose's visibility-masked keypoints, and compares in original-image pixels.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpose.registry import METRICS

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


@METRICS.register_module()
class LIPPCKhMetric(BaseMetric):
    """LIP PCKh@0.5 for MMPose evaluators, identical to :func:`compute_lip_pckh`.

    Each data sample must carry ``raw_ann_info['lip_keypoints']`` (16 x 3, ``nan`` = unlabelled), which
    :class:`~lip_toolkit.pose.datasets.LIPPoseDataset` provides; without it the metric falls back to the
    sample's ``gt_instances`` (keypoints with ``keypoints_visible == 0`` treated as unlabelled). Samples with no
    ground truth at all (LIP's test split) are only written to ``out_file``; the metric then returns ``{}``.

    Predictions are ``pred_instances.keypoints`` in original-image pixels (MMPose's top-down models restore
    them). With ``round_to_int`` they are clipped at 0 and rounded first, i.e. the metric scores exactly the
    integer coordinates a LIP submission (and ``out_file``) holds.

    Args:
        threshold: PCKh threshold in head sizes.
        out_file: if set, also write the predictions there as a LIP CSV (dataset order), e.g. for submission.
        round_to_int: score the integer coordinates a submission holds (True) or the raw floats.
        collect_device: ``'cpu'`` or ``'gpu'``, for collecting results across ranks.
        prefix: prefix of the metric names; default ``'LIP'`` (``LIP/PCKh``, ``LIP/Head`` ...).

    Returns of :meth:`evaluate`: ``PCKh`` (= ``Mean``), ``Head`` ... ``Ankle``, ``UBody``, ``Mean``.
    """

    default_prefix: Optional[str] = 'LIP'

    def __init__(self,
                 threshold: float = 0.5,
                 out_file: Optional[str] = None,
                 round_to_int: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.threshold = threshold
        self.out_file = out_file
        self.round_to_int = round_to_int

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        """Keep each sample's image name, raw ground truth and first predicted instance."""
        for sample in data_samples:
            pred = _to_numpy(sample['pred_instances']['keypoints'])
            pred = pred.reshape(-1, NUM_JOINTS, pred.shape[-1])[0, :, :2].astype(np.float64)
            self.results.append(dict(
                order=_sample_order(sample, len(self.results)),
                name=osp.basename(sample.get('img_path', '') or f'{sample.get("img_id", len(self.results))}'),
                gt=_ground_truth(sample),
                pred=pred,
            ))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Score all collected samples (and write ``out_file``)."""
        from .evaluation import format_pckh_table
        from .lip_csv import write_lip_pred_csv

        logger = MMLogger.get_current_instance()
        results = sorted(results, key=lambda r: r['order'])
        names = [r['name'] for r in results]
        pred = np.stack([r['pred'] for r in results]) if results else np.zeros((0, NUM_JOINTS, 2))
        if self.round_to_int:
            pred = np.round(np.clip(pred, 0, None))
        if self.out_file:
            write_lip_pred_csv(self.out_file, names, pred)
            logger.info(f'LIP predictions written to {self.out_file}')
        with_gt = [r['gt'] is not None for r in results]
        if not any(with_gt):
            logger.info('no ground truth in these samples (test split?): PCKh not computed')
            return {}
        if not all(with_gt):
            raise ValueError(f'{with_gt.count(False)} of {len(results)} samples have no ground truth')
        gt = np.stack([r['gt'] for r in results])
        scores = compute_lip_pckh(gt, pred, self.threshold)
        table = format_pckh_table(scores, title=f'PCKh@{self.threshold:g}',
                                  scored_images=count_scored_images(gt), total_images=len(results))
        logger.info('\n' + table)
        metrics = {'PCKh': scores['Mean']}
        metrics.update({key: scores[key] for key in SUMMARY_KEYS})
        return metrics


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _sample_order(sample: dict, fallback: int) -> int:
    order = sample.get('id', None)
    if order is None:
        return fallback
    return int(np.asarray(order).reshape(-1)[0])


def _ground_truth(sample: dict) -> Optional[np.ndarray]:
    raw = sample.get('raw_ann_info') or {}
    if isinstance(raw, dict) and raw.get('lip_keypoints') is not None:
        return np.asarray(raw['lip_keypoints'], dtype=np.float64).reshape(NUM_JOINTS, 3)
    gt = sample.get('gt_instances') or {}
    if 'keypoints' not in gt or len(_to_numpy(gt['keypoints'])) == 0:
        return None
    keypoints = _to_numpy(gt['keypoints']).reshape(-1, NUM_JOINTS, 2)[0].astype(np.float64)
    visible = _to_numpy(gt.get('keypoints_visible', np.ones((1, NUM_JOINTS))))
    visible = visible.reshape(-1, NUM_JOINTS, *visible.shape[2:])[0]
    if visible.ndim == 2:
        visible = visible[:, 0]
    keypoints[visible <= 0] = np.nan
    return np.concatenate([keypoints, np.zeros((NUM_JOINTS, 1))], axis=1)
