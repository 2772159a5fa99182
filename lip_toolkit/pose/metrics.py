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

from .pckh import (HEAD_TOP, MEAN_JOINTS, NECK, NUM_JOINTS, PART_JOINTS, SUMMARY_KEYS,  # noqa: F401
                   UPPER_BODY_JOINTS, compute_lip_pckh, count_scored_images)


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
