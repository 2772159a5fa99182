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
from .classes import IGNORE_INDEX, LIP_CLASSES
# The formula itself lives with the offline scorer, which must not import mmseg; re-exported here.
from .evaluation import confusion_matrix, miou_from_confusion

__all__ = ['LIPMIoUMetric', 'confusion_matrix', 'miou_from_confusion']


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
