"""Render whole folders of pictures: a dataset split's ground truth, or a predictions file beside its images.

These are the functions behind ``lip-toolkit visualize``. Each writes one PNG per image into ``out_dir`` and
returns the paths written. The folder is built aside and swapped in once every picture is drawn: an interrupted
run leaves the old folder, and an old folder is replaced as a whole (never a mix of old and new pictures).
"""
import contextlib
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..core.errors import LipToolkitError
from ..core.image_io import IMAGE_SUFFIXES, find_image, read_image_bgr, write_image
from ..core.io import atomic_directory, read_id_list
from ..core.progress import progress
from .compose import side_by_side
from .parsing import render_parsing
from .pose import draw_pose

SPLITS = ('train', 'val', 'test')


@contextlib.contextmanager
def picture_folder(out_dir):
    """``(write, written)``: ``write(name, picture)`` draws into a folder built aside, which replaces ``out_dir``
    once the block ends without error; ``written`` lists the final paths."""
    out_dir, written = Path(out_dir), []
    with atomic_directory(out_dir) as staging:
        def write(name: str, picture) -> None:
            write_image(staging / name, picture)
            written.append(out_dir / name)
        yield write, written


def _parsing_split_dirs(root: Path, split: str):
    """The images and label folders of a parsing split, in the release layout or the doubly nested one."""
    found = []
    for top, name in (('TrainVal_images', f'{split}_images'),
                      ('TrainVal_parsing_annotations', f'{split}_segmentations')):
        candidates = [root / top / name, root / top / top / name]
        match = next((c for c in candidates if c.is_dir()), None)
        if match is None:
            raise LipToolkitError(f'LIP folder {top}/{name} not found (looked in {top}/ and {top}/{top}/)', root)
        found.append(match)
    return found


def _split_ids(split: str, images_dir: Path) -> List[str]:
    id_file = images_dir.parent / f'{split}_id.txt'
    if id_file.is_file():
        return read_id_list(id_file)
    # No id list: every image in the folder, in name order.
    return sorted(p.stem for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _limited(items: list, limit: Optional[int]) -> list:
    if limit is not None and limit < 0:
        raise LipToolkitError(f'--limit must be 0 or more, got {limit}')
    return items if limit is None else items[:limit]


def visualize_split(data_root, split: str, track: str, out_dir, limit: Optional[int] = None,
                    alpha: float = 0.6) -> List[Path]:
    """Draw the ground truth of a LIP split: skeletons (``track='pose'``) or coloured parsing with a legend.

    Args:
        data_root: the LIP release root (``TrainVal_images/``, ``TrainVal_pose_annotations/`` ...).
        split: ``'train'`` or ``'val'`` (the test split has no ground truth).
        track: ``'pose'`` or ``'parsing'``.
        out_dir: folder for ``<id>.png`` pictures (created if needed).
        limit: draw only the first ``limit`` images of the split.
        alpha: weight of the parsing colours over the image.

    Returns:
        The pictures written, in split order.
    """
    root = Path(data_root)
    if not root.is_dir():
        raise LipToolkitError('data root not found', root)
    if split not in SPLITS:
        raise LipToolkitError(f'unknown split {split!r} (choose from {", ".join(SPLITS)})')
    if split == 'test':
        raise LipToolkitError('the test split has no ground truth to draw; use `visualize pose-pred` or '
                              '`visualize parsing-pred` with your predictions')
    if track not in ('pose', 'parsing'):
        raise LipToolkitError(f'unknown track {track!r} (choose pose or parsing)')
    if track == 'pose':
        from ..pose.datasets.lip_pose import find_lip_pose_files
        from ..pose.lip_csv import read_lip_gt_csv
        csv_path, images_dir, _ = find_lip_pose_files(root, split)
        names, keypoints = read_lip_gt_csv(csv_path)
        rows = _limited(list(range(len(names))), limit)
        with picture_folder(out_dir) as (write, written):
            for row in progress(rows, total=len(rows), desc=f'drawing {split} poses'):
                image_path = find_image(images_dir, names[row])
                image = read_image_bgr(image_path)
                write(f'{image_path.stem}.png', draw_pose(image, keypoints[row]))
        return written
    images_dir, labels_dir = _parsing_split_dirs(root, split)
    ids = _limited(_split_ids(split, images_dir), limit)
    with picture_folder(out_dir) as (write, written):
        for image_id in progress(ids, total=len(ids), desc=f'drawing {split} parsing'):
            image_path = find_image(images_dir, f'{image_id}.jpg')
            label_path = labels_dir / f'{image_id}.png'
            image = read_image_bgr(image_path)
            label = _checked_label(label_path, image.shape[:2], 'gt')
            write(f'{image_id}.png', render_parsing(image, label, alpha))
    return written


def _checked_label(path: Path, image_shape, role: str) -> np.ndarray:
    """Read a label map the way the scorer does (grey or paletted PNG, class ids) at its image's size."""
    from ..parsing.label_io import read_label_map
    if not path.is_file():
        raise LipToolkitError('label map not found', path)
    label = read_label_map(path, role=role)
    if label.shape != tuple(image_shape):
        raise LipToolkitError(f'label map is {label.shape[1]}x{label.shape[0]} (WxH) but its image is '
                              f'{image_shape[1]}x{image_shape[0]}', path)
    return label


def visualize_pose_predictions(pred_csv, images_dir, out_dir, gt_csv=None,
                               limit: Optional[int] = None) -> List[Path]:
    """Draw predicted skeletons from a LIP pose CSV; with ``gt_csv``, ground truth beside prediction.

    Args:
        pred_csv: predictions (LIP submission format ``<image>.jpg,x0,y0,...``, or with a third value per joint).
        images_dir: folder with the images the rows name.
        out_dir: folder for ``<image stem>.png`` pictures.
        gt_csv: optional ground-truth CSV (``lip_val_set.csv`` format); rows are matched by image name.
        limit: draw only the first ``limit`` rows.

    Returns:
        The pictures written, in the order of the prediction rows.
    """
    from ..pose.lip_csv import image_key, read_lip_gt_csv, read_lip_pred_csv
    names, coords = read_lip_pred_csv(pred_csv)
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise LipToolkitError('images folder not found', images_dir)
    gt_rows: Dict[str, np.ndarray] = {}
    if gt_csv is not None:
        gt_names, gt_points = read_lip_gt_csv(gt_csv)
        gt_rows = {image_key(n): gt_points[i] for i, n in enumerate(gt_names)}
        missing = [n for n in names if image_key(n) not in gt_rows]
        if missing:
            raise LipToolkitError(f'{len(missing)} predicted image(s) have no ground-truth row, first '
                                  f'{missing[0]!r}', gt_csv)
    rows = _limited(list(range(len(names))), limit)
    with picture_folder(out_dir) as (write, written):
        for row in progress(rows, total=len(rows), desc='drawing predicted poses'):
            image_path = find_image(images_dir, names[row])
            image = read_image_bgr(image_path)
            predicted = draw_pose(image, coords[row])
            if gt_csv is None:
                picture = predicted
            else:
                truth = draw_pose(image, gt_rows[image_key(names[row])])
                picture = side_by_side([('ground truth', truth), ('prediction', predicted)])
            write(f'{image_path.stem}.png', picture)
    return written


def visualize_parsing_predictions(pred_dir, images_dir, out_dir, gt_dir=None, limit: Optional[int] = None,
                                  alpha: float = 0.6) -> List[Path]:
    """Draw predicted label PNGs over their images; with ``gt_dir``, ground truth beside prediction.

    Each picture shows the image, (the ground truth,) and the prediction, each parsing panel with a legend of
    the classes it contains.

    Args:
        pred_dir: folder of ``<id>.png`` label maps (class ids), as ``predict`` or a submission writes them.
        images_dir: folder with ``<id>.jpg`` (or any image suffix) images.
        out_dir: folder for ``<id>.png`` pictures.
        gt_dir: optional folder of ground-truth ``<id>.png`` label maps.
        limit: draw only the first ``limit`` predictions (in name order).
        alpha: weight of the class colours over the image.

    Returns:
        The pictures written, in name order.
    """
    pred_dir, images_dir = Path(pred_dir), Path(images_dir)
    for folder in (pred_dir, images_dir) + ((Path(gt_dir),) if gt_dir is not None else ()):
        if not folder.is_dir():
            raise LipToolkitError('folder not found', folder)
    predictions = sorted(p for p in pred_dir.iterdir() if p.suffix.lower() == '.png' and not p.name.startswith('.'))
    if not predictions:
        raise LipToolkitError('no .png label maps in the predictions folder', pred_dir)
    predictions = _limited(predictions, limit)
    with picture_folder(out_dir) as (write, written):
        for pred_path in progress(predictions, total=len(predictions), desc='drawing predicted parsing'):
            image = read_image_bgr(find_image(images_dir, pred_path.stem))
            panels = [('image', image)]
            if gt_dir is not None:
                gt_path = Path(gt_dir) / pred_path.name
                if not gt_path.is_file():
                    raise LipToolkitError(f'no ground truth for prediction {pred_path.name}', gt_path)
                truth = _checked_label(gt_path, image.shape[:2], 'gt')
                panels.append(('ground truth', render_parsing(image, truth, alpha)))
            predicted = _checked_label(pred_path, image.shape[:2], 'pred')
            panels.append(('prediction', render_parsing(image, predicted, alpha)))
            write(f'{pred_path.stem}.png', side_by_side(panels))
    return written
