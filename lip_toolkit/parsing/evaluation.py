"""Offline LIP parsing scoring: a folder of predicted PNGs against a folder of ground-truth PNGs.

The work is PNG decoding, so ids are split into chunks and scored in a process pool; each worker decodes its pairs
and adds them into one 256x256 joint histogram (OpenCV ``calcHist`` of (ground truth, prediction) values), which
both gives the confusion matrix (the 20x20 corner) and proves every value valid (everything else must be empty,
except the ground-truth 255 row). Only a chunk that fails that check is decoded again, image by image, to name the
first bad file and pixel. The numbers are the same integers :func:`confusion_matrix` counts, then
:func:`miou_from_confusion` applies the LIP formula (both also importable from :mod:`lip_toolkit.parsing.metrics`,
next to the MMSeg metric).
This module imports no mmseg or torch, so offline scoring starts in a fraction of a second.
"""
import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import LipToolkitError
from ..core.pools import default_workers, process_pool
from .classes import IGNORE_INDEX, LIP_CLASSES, NUM_CLASSES
from .label_io import check_label_values, check_same_size, decode_label_png, list_label_ids

# float32 counts are exact up to 2**24; the running histogram is flushed to int64 before it could exceed that.
_FLOAT32_EXACT = 1 << 24
_CHUNK_SIZE = 64
# Below this many images a pool costs more than it saves.
_MIN_IDS_FOR_POOL = 128


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


def _pair_paths(gt_dir: str, pred_dir: str, image_id: str) -> Tuple[str, str]:
    return os.path.join(gt_dir, image_id + '.png'), os.path.join(pred_dir, image_id + '.png')


def _read_pair(gt_dir: str, pred_dir: str, image_id: str) -> Tuple[np.ndarray, np.ndarray]:
    gt_path, pred_path = _pair_paths(gt_dir, pred_dir, image_id)
    gt = decode_label_png(gt_path)
    pred = decode_label_png(pred_path)
    check_same_size(pred, gt.shape, pred_path)
    return gt, pred


def _joint_histogram(gt_dir: str, pred_dir: str, ids: Sequence[str]) -> np.ndarray:
    """256x256 int64 counts of (ground-truth value, predicted value) over ``ids``."""
    import cv2
    total = np.zeros((256, 256), np.int64)
    running = np.zeros((256, 256), np.float32)
    in_running = 0
    for image_id in ids:
        gt, pred = _read_pair(gt_dir, pred_dir, image_id)
        if in_running + gt.size > _FLOAT32_EXACT:
            total += running.astype(np.int64)
            running[:] = 0
            in_running = 0
        cv2.calcHist([gt, pred], [0, 1], None, [256, 256], [0, 256, 0, 256], hist=running, accumulate=True)
        in_running += gt.size
    total += running.astype(np.int64)
    return total


def _histogram_is_valid(hist: np.ndarray, num_classes: int) -> bool:
    """True when every ground-truth value is a class id or 255 and every prediction value a class id."""
    gt_counts = hist.sum(axis=1)
    pred_counts = hist.sum(axis=0)
    gt_bad = gt_counts[num_classes:].sum() - gt_counts[IGNORE_INDEX]
    return gt_bad == 0 and pred_counts[num_classes:].sum() == 0


def _locate_bad_value(gt_dir: str, pred_dir: str, ids: Sequence[str], num_classes: int) -> None:
    """Raise the error for the first file (in id order) holding a value that is not a class id."""
    for image_id in ids:
        gt_path, pred_path = _pair_paths(gt_dir, pred_dir, image_id)
        gt, pred = _read_pair(gt_dir, pred_dir, image_id)
        check_label_values(gt, gt_path, allow_ignore=True, num_classes=num_classes)
        check_label_values(pred, pred_path, allow_ignore=False, num_classes=num_classes)
    raise AssertionError('histogram reported a bad value that no file holds')  # pragma: no cover


def _score_chunk(task) -> Tuple[str, object]:
    """Worker: ``('ok', (confusion, ignored pixels, skipped))`` or ``('error', (message, path, location))``.

    With ``skip``, a chunk holding a bad file is scored again one image at a time, leaving the bad ones out and
    returning them as ``skipped`` (``[(id, one-line error)]``).
    """
    gt_dir, pred_dir, ids, num_classes, skip = task
    import cv2
    cv2.setNumThreads(1)  # the pool provides the parallelism
    try:
        return 'ok', _chunk_confusion(gt_dir, pred_dir, ids, num_classes) + ([],)
    except LipToolkitError as exc:
        if not skip:
            return 'error', (exc.message, exc.path, exc.location)
    conf = np.zeros((num_classes, num_classes), np.int64)
    ignored, skipped = 0, []
    for image_id in ids:
        try:
            one_conf, one_ignored = _chunk_confusion(gt_dir, pred_dir, [image_id], num_classes)
        except LipToolkitError as exc:
            skipped.append((image_id, exc.one_line()))
            continue
        conf += one_conf
        ignored += one_ignored
    return 'ok', (conf, ignored, skipped)


def _chunk_confusion(gt_dir, pred_dir, ids, num_classes) -> Tuple[np.ndarray, int]:
    hist = _joint_histogram(gt_dir, pred_dir, ids)
    if not _histogram_is_valid(hist, num_classes):
        _locate_bad_value(gt_dir, pred_dir, ids, num_classes)
    return np.ascontiguousarray(hist[:num_classes, :num_classes]), int(hist[IGNORE_INDEX].sum())


def confusion_from_dirs(gt_dir, pred_dir, ids: Optional[Sequence[str]] = None, workers: Optional[int] = None,
                        num_classes: int = NUM_CLASSES, skipped: Optional[List] = None) -> Tuple[np.ndarray, int]:
    """Sum the confusion matrix of ``<id>.png`` pairs over a split.

    Args:
        gt_dir: folder of ground-truth PNGs (LIP ``val_segmentations``).
        pred_dir: folder of predicted PNGs with the same names.
        ids: ids to score, in order; default: every ``*.png`` in ``gt_dir``.
        workers: processes (default: all CPUs available); 1 scores in this process.
        num_classes: 20 for LIP.
        skipped: when a list is given, bad images are left out of the sum and appended to it as
            ``(id, one-line error)`` instead of stopping the job.

    Returns:
        ``(confusion (C, C) int64, number of ground-truth pixels ignored (255))``.

    Raises:
        LipToolkitError: a missing or unreadable file, a prediction whose size differs from its ground truth,
            a value that is not a class id (ground truth may also hold 255), naming the first such file in id
            order (and the pixel for bad values).
    """
    from ..core.progress import progress
    gt_dir, pred_dir = str(gt_dir), str(pred_dir)
    for folder, what in ((gt_dir, 'ground-truth'), (pred_dir, 'prediction')):
        if not os.path.isdir(folder):
            raise LipToolkitError(f'{what} folder not found', folder)
    ids = list_label_ids(gt_dir) if ids is None else list(ids)
    if not ids:
        raise LipToolkitError('no ground-truth PNGs to score', gt_dir)
    workers = default_workers() if workers is None else max(1, int(workers))
    tasks = [(gt_dir, pred_dir, ids[start:start + _CHUNK_SIZE], num_classes, skipped is not None)
             for start in range(0, len(ids), _CHUNK_SIZE)]
    conf = np.zeros((num_classes, num_classes), np.int64)
    ignored = 0

    def consume(results):
        nonlocal conf, ignored
        for status, payload in progress(results, total=len(tasks), desc='scoring', unit='chunk'):
            if status == 'error':
                message, path, location = payload
                raise LipToolkitError(message, path, location)
            conf += payload[0]
            ignored += payload[1]
            if skipped is not None:
                skipped.extend(payload[2])

    if workers == 1 or len(ids) < _MIN_IDS_FOR_POOL:
        consume(map(_score_chunk, tasks))
    else:
        with process_pool(min(workers, len(tasks))) as pool:
            consume(pool.imap(_score_chunk, tasks))
    return conf, ignored


def evaluate_parsing_dirs(gt_dir, pred_dir, ids_file=None, workers: Optional[int] = None,
                          json_path=None, on_error: str = 'stop') -> Dict:
    """Score a folder of predicted label PNGs with the LIP formula (the ``evaluate parsing`` command).

    Args:
        gt_dir: ground-truth folder (e.g. ``TrainVal_parsing_annotations/val_segmentations``).
        pred_dir: prediction folder, ``<id>.png`` each, 8-bit grey or paletted, at the ground truth's size.
        ids_file: optional id list (``val_id.txt``); default: every PNG in ``gt_dir``.
        workers: processes (default: all CPUs available).
        json_path: when given, also write the scores there (atomically) as JSON.
        on_error: ``'stop'`` (the first bad file ends the job with its error) or ``'skip'`` (bad images are
            left out and listed; the scores cover the others).

    Returns:
        ``{'mIoU', 'pixel_acc', 'mean_acc': percent, 'IoU': {class name: percent}}``; with ``'skip'`` also
        ``'num_images'``, ``'num_skipped'`` and ``'skipped'`` (``[{'id', 'error'}]``).
    """
    from ..core.io import read_id_list
    if on_error not in ('stop', 'skip'):
        raise LipToolkitError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    ids = read_id_list(ids_file) if ids_file is not None else None
    skipped = [] if on_error == 'skip' else None
    conf, _ = confusion_from_dirs(gt_dir, pred_dir, ids=ids, workers=workers, skipped=skipped)
    scores = miou_from_confusion(conf, LIP_CLASSES)
    if skipped is not None:
        total = len(ids) if ids is not None else len(list_label_ids(str(gt_dir)))
        if len(skipped) == total:
            raise LipToolkitError(f'every image was bad ({total}); first: {skipped[0][1]}', pred_dir)
        scores.update(num_images=total, num_skipped=len(skipped),
                      skipped=[{'id': image_id, 'error': error} for image_id, error in skipped])
    if json_path is not None:
        write_scores_json(scores, json_path)
    return scores


def write_scores_json(scores: Dict, path) -> None:
    """Write ``{'mIoU', 'pixel_acc', 'mean_acc', 'IoU'}`` atomically as indented JSON."""
    from ..core.io import atomic_write
    payload = {key: scores[key] for key in ('mIoU', 'pixel_acc', 'mean_acc', 'IoU', 'num_images', 'num_skipped',
                                            'skipped') if key in scores}
    with atomic_write(Path(path), 'w', encoding='utf-8') as handle:
        json.dump(payload, handle, indent=2)
        handle.write('\n')


def format_miou_table(scores: Dict, digits: int = 2) -> str:
    """A plain-text table: one line per class IoU, then mIoU, pixel accuracy and mean accuracy.

    Example:
        >>> print(format_miou_table({'mIoU': 50.0, 'pixel_acc': 90.0, 'mean_acc': 60.0,
        ...                          'IoU': {'Background': 100.0, 'Hat': 0.0}}))
        class          IoU
        Background  100.00
        Hat           0.00
        ------------------
        mIoU         50.00
        pixel acc    90.00
        mean acc     60.00
    """
    rows: List[Tuple[str, float]] = list(scores['IoU'].items())
    summary = [('mIoU', scores['mIoU']), ('pixel acc', scores['pixel_acc']), ('mean acc', scores['mean_acc'])]
    name_width = max(len(name) for name, _ in rows + summary + [('class', 0)])
    value_width = max(len(f'{value:.{digits}f}') for _, value in rows + summary)
    value_width = max(value_width, len('IoU')) + 2
    lines = [f"{'class':<{name_width}}{'IoU':>{value_width}}"]
    lines += [f'{name:<{name_width}}{value:>{value_width}.{digits}f}' for name, value in rows]
    lines.append('-' * (name_width + value_width))
    lines += [f'{name:<{name_width}}{value:>{value_width}.{digits}f}' for name, value in summary]
    return '\n'.join(lines)
