"""LIP parsing mIoU: the pure formula and the MMSeg metric that applies it during validation.

The published evaluation (CE2P ``utils/miou.py``, reused by SCHP) accumulates **one** 20x20 confusion matrix over
the whole split, with ground-truth 255 pixels left out, and scores each image at its original size. With
``pos`` = ground-truth pixels per class, ``res`` = predicted pixels per class and ``tp`` = the diagonal:

* IoU_c = tp_c / max(1, pos_c + res_c - tp_c)
* mIoU = plain mean of IoU_c over all 20 classes (a class absent from both counts as 0, unlike ``nanmean``)
* pixel accuracy = sum(tp) / sum(pos); mean accuracy = mean_c tp_c / max(1, pos_c)

This differs from MMSeg's ``IoUMetric``, which averages with ``nanmean`` (skipping empty classes) and so reports
higher numbers whenever a class is missing; :class:`LIPMIoUMetric` keeps the LIP formula.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS

from ..core.errors import LipToolkitError
from .classes import IGNORE_INDEX, LIP_CLASSES, NUM_CLASSES


def confusion_matrix(gt, pred, num_classes: int = NUM_CLASSES, ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """Confusion matrix of one label map pair: ``conf[g, p]`` = pixels with ground truth g predicted as p.

    Args:
        gt: ``(H, W)`` ground truth, values ``0 .. num_classes-1`` or ``ignore_index``.
        pred: ``(H, W)`` prediction, values ``0 .. num_classes-1``.
        num_classes: number of classes (20 for LIP).
        ignore_index: ground-truth value left out of the count.

    Returns:
        ``(num_classes, num_classes)`` int64 array; sum it over images to score a split.

    Raises:
        ValueError: shapes differ, or a value is not a class id (the message names the first such pixel).

    Example:
        >>> confusion_matrix(np.array([[0, 1], [255, 1]]), np.array([[0, 0], [1, 1]]), num_classes=2).tolist()
        [[1, 0], [1, 1]]
    """
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.shape != pred.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground-truth shape {gt.shape}')
    _check_values(gt, num_classes, ignore_index, 'ground truth')
    _check_values(pred, num_classes, None, 'prediction')
    keep = gt != ignore_index
    index = gt[keep].astype(np.int64) * num_classes + pred[keep].astype(np.int64)
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _check_values(label: np.ndarray, num_classes: int, ignore_index: Optional[int], what: str) -> None:
    bad = (label < 0) | (label >= num_classes)
    if ignore_index is not None:
        bad &= label != ignore_index
    if bad.any():
        position = np.unravel_index(int(np.argmax(bad)), bad.shape)
        where = f'pixel (x={position[-1]}, y={position[-2]})' if len(position) >= 2 else f'index {position}'
        raise ValueError(f'{what} value {label[position]} at {where} is not a class id')


def miou_from_confusion(conf, class_names: Sequence[str] = LIP_CLASSES) -> Dict:
    """LIP scores from a split's summed confusion matrix, all in percent.

    Args:
        conf: ``(C, C)`` confusion matrix, rows = ground truth, columns = prediction.
        class_names: ``C`` names for the per-class IoU.

    Returns:
        ``{'mIoU': float, 'pixel_acc': float, 'mean_acc': float, 'IoU': {class name: float}}``.

    Example:
        >>> scores = miou_from_confusion([[3, 1], [0, 0]], ['a', 'b'])
        >>> scores['mIoU'], scores['IoU']['b'], scores['pixel_acc']
        (37.5, 0.0, 75.0)
    """
    conf = np.asarray(conf, dtype=np.float64)
    if conf.ndim != 2 or conf.shape[0] != conf.shape[1] or conf.shape[0] != len(class_names):
        raise ValueError(f'confusion matrix must be {len(class_names)}x{len(class_names)}, got {conf.shape}')
    tp = np.diag(conf)
    pos = conf.sum(axis=1)
    res = conf.sum(axis=0)
    iou = tp / np.maximum(1.0, pos + res - tp)
    return {
        'mIoU': float(100.0 * iou.mean()),
        'pixel_acc': float(100.0 * tp.sum() / max(1.0, pos.sum())),
        'mean_acc': float(100.0 * np.mean(tp / np.maximum(1.0, pos))),
        'IoU': {name: float(100.0 * value) for name, value in zip(class_names, iou)},
    }


@METRICS.register_module()
class LIPMIoUMetric(IoUMetric):
    """LIP mIoU in MMSeg's evaluator: one confusion matrix over the split, scored at each image's original size.

    MMSeg's segmentors resize the logits to ``ori_shape`` before the argmax (``postprocess_result``), and a test
    pipeline that loads the annotation *after* ``Resize`` keeps the ground truth at its original size, so both
    arrive here at the original size. A prediction of another size means the pipeline breaks that rule; it is
    refused (with the image's path) instead of being scored at the wrong resolution.

    Returned keys: ``mIoU``, ``pixel_acc``, ``mean_acc`` and ``IoU.<class>`` (percent, unrounded: identical to
    ``lip-toolkit evaluate parsing`` on the same predictions). The per-class table is logged.

    Args:
        ignore_index: ground-truth value left out (255).
        output_dir: also save every prediction there as ``<image stem>.png`` (paletted, index = class id).
        format_only: only save predictions (for the test split, which has no ground truth).
        collect_device, prefix: as in MMEngine's ``BaseMetric``.
    """

    def __init__(self, ignore_index: int = IGNORE_INDEX, collect_device: str = 'cpu',
                 output_dir: Optional[str] = None, format_only: bool = False, prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(ignore_index=ignore_index, iou_metrics=['mIoU'], collect_device=collect_device,
                         output_dir=output_dir, format_only=format_only, prefix=prefix, **kwargs)

    @property
    def class_names(self) -> Sequence[str]:
        meta = self.dataset_meta or {}
        return tuple(meta.get('classes') or LIP_CLASSES)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.class_names)
        for sample in data_samples:
            pred = _as_label_array(sample['pred_sem_seg']['data'])
            image_path = sample.get('img_path', '<unknown image>')
            if self.output_dir is not None:
                self._save_prediction(pred, image_path)
            if self.format_only:
                continue
            gt = _as_label_array(sample['gt_sem_seg']['data'])
            if gt.shape != pred.shape:
                raise LipToolkitError(
                    f'prediction {pred.shape[1]}x{pred.shape[0]} (WxH) is not at the ground truth\'s original '
                    f'size {gt.shape[1]}x{gt.shape[0]}: load annotations after Resize in the test pipeline',
                    sample.get('seg_map_path', image_path))
            try:
                conf = confusion_matrix(gt, pred, num_classes, self.ignore_index)
            except ValueError as exc:
                raise LipToolkitError(str(exc), sample.get('seg_map_path', image_path)) from None
            self.results.append(conf)

    def _save_prediction(self, pred: np.ndarray, image_path: str) -> None:
        import os.path as osp

        from .label_io import write_label_png
        stem = osp.splitext(osp.basename(image_path))[0]
        write_label_png(osp.join(self.output_dir, f'{stem}.png'), pred)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        from mmengine.logging import MMLogger, print_log

        from .evaluation import format_miou_table
        if self.format_only:
            print_log(f'predictions saved to {self.output_dir}', MMLogger.get_current_instance())
            return {}
        names = self.class_names
        conf = np.zeros((len(names), len(names)), dtype=np.int64)
        for item in results:
            conf += item
        scores = miou_from_confusion(conf, names)
        print_log('\n' + format_miou_table(scores), MMLogger.get_current_instance())
        flat = {key: scores[key] for key in ('mIoU', 'pixel_acc', 'mean_acc')}
        flat.update({f'IoU.{name}': value for name, value in scores['IoU'].items()})
        return flat


def _as_label_array(data) -> np.ndarray:
    """A ``(1, H, W)`` or ``(H, W)`` tensor/array as a 2-D int64 numpy array (batch dims of 1 dropped)."""
    if hasattr(data, 'detach'):
        data = data.detach().cpu().numpy()
    array = np.asarray(data)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    return array.astype(np.int64, copy=False)
