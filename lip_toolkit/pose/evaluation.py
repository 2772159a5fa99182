"""Offline LIP pose scoring: a ground-truth CSV against a prediction CSV, rows matched by image name.

This is the API behind ``lip-toolkit evaluate pose``; :func:`format_pckh_table` is also used by
:class:`~lip_toolkit.pose.metrics.LIPPCKhMetric` to log its results.
"""
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from ..core.errors import LipToolkitError
from ..core.io import atomic_write
from .lip_csv import NUM_JOINTS, image_key, read_lip_gt_csv, read_lip_pred_rows
from .pckh import SUMMARY_KEYS, compute_lip_pckh, count_scored_images

PathLike = Union[str, os.PathLike]

#: Column titles of the summary row, as LIP papers print them.
TABLE_TITLES = ('Head', 'Sho.', 'Elb.', 'Wri.', 'Hip', 'Knee', 'Ank.', 'U.Body', 'Avg.')
JOINT_NAMES = ('r_ankle', 'r_knee', 'r_hip', 'l_hip', 'l_knee', 'l_ankle', 'pelvis', 'spine', 'neck',
               'head_top', 'r_wrist', 'r_elbow', 'r_shoulder', 'l_shoulder', 'l_elbow', 'l_wrist')


@dataclass
class PoseEvaluation:
    """The result of :func:`evaluate_pose_files`.

    Attributes:
        scores: what :func:`~lip_toolkit.pose.metrics.compute_lip_pckh` returns (percentages).
        num_images: ground-truth rows.
        num_scored_images: rows with a usable head size (the others are left out by the LIP rules).
        missing: ground-truth image names without a prediction (only possible with ``allow_missing``).
    """

    scores: Dict[str, object]
    num_images: int
    num_scored_images: int
    missing: List[str] = field(default_factory=list)

    def table(self) -> str:
        """The PCKh table, as :func:`format_pckh_table` prints it."""
        return format_pckh_table(self.scores, scored_images=self.num_scored_images, total_images=self.num_images,
                                 missing=len(self.missing))


def evaluate_pose_files(gt_csv: PathLike, pred_csv: PathLike, allow_missing: bool = False,
                        threshold: float = 0.5) -> PoseEvaluation:
    """Score a LIP prediction CSV against a LIP ground-truth CSV.

    Args:
        gt_csv: ground truth (``lip_val_set.csv`` format).
        pred_csv: predictions (LIP submission format; ground-truth style rows accepted). Row order is free.
        allow_missing: score ground-truth images without a prediction row as entirely missed (every joint at
            pixel (1, 1)), instead of failing.
        threshold: PCKh threshold in head sizes.

    Returns:
        A :class:`PoseEvaluation`.

    Raises:
        LipToolkitError: a bad file (see :func:`~lip_toolkit.pose.lip_csv.read_lip_gt_csv`), a prediction for an
            image that is not in the ground truth, or (without ``allow_missing``) a ground-truth image with no
            prediction.
    """
    gt_names, gt = read_lip_gt_csv(gt_csv)
    pred_names, pred_rows, pred_lines = read_lip_pred_rows(pred_csv)
    row_of_gt = {image_key(name): row for row, name in enumerate(gt_names)}
    pred = np.full((len(gt_names), NUM_JOINTS, 2), np.nan)
    has_pred = np.zeros(len(gt_names), dtype=bool)
    for pred_row, name in enumerate(pred_names):
        gt_row = row_of_gt.get(image_key(name))
        if gt_row is None:
            raise LipToolkitError(f'image {name!r} is not in the ground truth {gt_csv}', pred_csv,
                                  f'line {pred_lines[pred_row]}')
        pred[gt_row] = pred_rows[pred_row]
        has_pred[gt_row] = True
    missing = [gt_names[row] for row in np.flatnonzero(~has_pred)]
    if missing and not allow_missing:
        raise LipToolkitError(f'no prediction for {len(missing)} of {len(gt_names)} ground-truth images, '
                              f'first {missing[0]!r} (--allow-missing scores them as missed)', pred_csv)
    scores = compute_lip_pckh(gt, pred, threshold)
    return PoseEvaluation(scores=scores, num_images=len(gt_names), num_scored_images=count_scored_images(gt),
                          missing=missing)


def format_pckh_table(scores: Dict[str, object], title: str = 'PCKh@0.5', scored_images: Optional[int] = None,
                      total_images: Optional[int] = None, missing: int = 0, per_joint: bool = True) -> str:
    """Format PCKh scores as the table LIP papers print, then (optionally) each joint.

    Args:
        scores: the dict :func:`~lip_toolkit.pose.metrics.compute_lip_pckh` returns.
        title: first cell of the table.
        scored_images: images with a usable head size, for the caption.
        total_images: ground-truth images, for the caption.
        missing: images scored without a prediction, for the caption.
        per_joint: add the per-joint rows.

    Returns:
        The table as text (no trailing newline).
    """
    width = max(len(title), 10)
    cell = '{:>7}'
    lines = []
    if total_images is not None:
        caption = f'{scored_images} of {total_images} images scored'
        if scored_images is not None and scored_images < total_images:
            caption += f' ({total_images - scored_images} without head top or neck)'
        if missing:
            caption += f'; {missing} without a prediction, scored as missed'
        lines.append(caption)
    lines.append(title.ljust(width) + ''.join(cell.format(t) for t in TABLE_TITLES))
    lines.append(' ' * width + ''.join(cell.format(_pct(scores[key])) for key in SUMMARY_KEYS))
    if per_joint and 'per_joint' in scores:
        values = scores['per_joint']
        for start in (0, 8):
            names = JOINT_NAMES[start:start + 8]
            lines.append('joint'.ljust(width) + ''.join('{:>11}'.format(n) for n in names))
            lines.append(' ' * width + ''.join('{:>11}'.format(_pct(v)) for v in values[start:start + 8]))
    return '\n'.join(lines)


def _pct(value) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{value:.1f}'


def pckh_json(scores: Dict[str, object]) -> Dict[str, object]:
    """The JSON form of the scores: the nine summary percentages and ``per_joint``; ``nan`` becomes null."""
    def clean(value):
        return None if value is None or math.isnan(value) else float(value)
    out = {key: clean(scores[key]) for key in SUMMARY_KEYS}
    out['per_joint'] = [clean(v) for v in scores['per_joint']]
    return out


def write_pckh_json(path: PathLike, scores: Dict[str, object]) -> Path:
    """Write :func:`pckh_json` of ``scores`` to ``path`` atomically."""
    path = Path(path)
    with atomic_write(path, 'w') as handle:
        json.dump(pckh_json(scores), handle, indent=2)
        handle.write('\n')
    return path
