"""The LIP single-person pose dataset for MMPose (train / val from the CSVs, test from ``test_id.txt``)."""
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from ...core.errors import LipToolkitError
from ...core.io import read_id_list
from ...core.paths import CONFIGS_DIR
from ...core.progress import progress
from ..lip_csv import read_lip_gt_csv

#: The metainfo file; an absolute path, so the dataset works from any working directory.
LIP_POSE_METAINFO_FILE = str(CONFIGS_DIR / '_base_' / 'datasets' / 'lip_pose.py')
SPLITS = ('train', 'val', 'test')


def find_lip_pose_files(data_root, split: str) -> Tuple[Optional[Path], Path, Optional[Path]]:
    """Locate a split's annotation CSV, image folder and id list in a LIP release tree.

    Both the layout of the release (``TrainVal_images/train_images``) and the doubly nested one some unzips
    produce (``TrainVal_images/TrainVal_images/train_images``) are accepted.

    Args:
        data_root: the folder holding ``TrainVal_images``, ``TrainVal_pose_annotations`` and ``Testing_images``.
        split: ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        ``(csv, image_dir, id_file)``: for train / val the CSV and image folder (id_file None); for test no CSV,
        the image folder and ``test_id.txt``.

    Raises:
        LipToolkitError: an unknown split, or a file that is in neither layout.
    """
    if split not in SPLITS:
        raise LipToolkitError(f'unknown LIP split {split!r}; expected one of {", ".join(SPLITS)}')
    return tuple(_find(Path(data_root), *where) if where else None for where in _LAYOUT[split])


# split -> where (top folder, name, is a folder) its CSV, image folder and id list are; None: not used.
_LAYOUT = {
    'train': (('TrainVal_pose_annotations', 'lip_train_set.csv', False), ('TrainVal_images', 'train_images', True),
              None),
    'val': (('TrainVal_pose_annotations', 'lip_val_set.csv', False), ('TrainVal_images', 'val_images', True), None),
    'test': (None, ('Testing_images', 'testing_images', True), ('Testing_images', 'test_id.txt', False)),
}


def _find(root: Path, top: str, name: str, want_dir: bool) -> Path:
    candidates = [root / top / name, root / top / top / name]
    for candidate in candidates:
        if candidate.is_dir() if want_dir else candidate.is_file():
            return candidate
    raise LipToolkitError(f'LIP {"folder" if want_dir else "file"} {top}/{name} not found (looked in '
                          f'{top}/ and {top}/{top}/)', root)


@DATASETS.register_module()
class LIPPoseDataset(BaseCocoStyleDataset):
    """LIP (Look Into Person) single-person pose, 16 joints in MPII order.

    Each image is one person: the bounding box is the whole image (x, y, w, h = 0, 0, W, H), with the size
    read from the image header only. A ``nan`` joint is unlabelled (``keypoints_visible`` 0); flags 0 (visible)
    and 1 (occluded) are both labelled (``keypoints_visible`` 1), and the flag itself is kept in
    ``keypoints_occluded`` for visualisation. ``raw_ann_info`` carries the image name and the untouched ground
    truth (``lip_keypoints``, 16 x 3 with ``nan``), which :class:`~lip_toolkit.pose.metrics.LIPPCKhMetric`
    scores. The test split is built from ``test_id.txt`` and the images and has no keypoints (inference only).

    Args:
        data_root: the LIP release folder (see :func:`find_lip_pose_files`).
        split: ``'train'``, ``'val'`` or ``'test'``.
        ann_file: override the split's CSV (absolute, or relative to ``data_root``).
        img_dir: override the split's image folder (absolute, or relative to ``data_root``).
        id_file: override ``test_id.txt`` (test split only).
        test_mode: defaults to True for val / test. In training mode, rows without any labelled joint are
            dropped; in test mode every row is kept so that evaluation sees all images.
        **kwargs: passed to :class:`~mmpose.datasets.datasets.base.BaseCocoStyleDataset` (``pipeline``,
            ``metainfo``, ``indices``, ``lazy_init`` ...).

    Examples:
        >>> cfg = dict(type='LIPPoseDataset', data_root='data/LIP', split='val', pipeline=[])  # doctest: +SKIP
    """

    METAINFO: dict = dict(from_file=LIP_POSE_METAINFO_FILE)

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 img_dir: Optional[str] = None,
                 id_file: Optional[str] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs):
        for reserved in ('data_prefix', 'bbox_file', 'data_mode'):
            if reserved in kwargs:
                raise LipToolkitError(f'LIPPoseDataset does not take {reserved!r}; use data_root, split, '
                                      'ann_file, img_dir or id_file')
        if split not in SPLITS:
            find_lip_pose_files(data_root, split)  # raises the error naming the splits
        self.split = split
        # Absolute paths: BaseDataset would join a relative one with data_root a second time.
        located = []
        for given, where in zip((ann_file, img_dir, id_file), _LAYOUT[split]):
            if given:
                path = _under(data_root, given)
            elif where:
                path = _find(Path(data_root), *where)
            else:
                path = None
            located.append(_absolute(path))
        ann_path, image_dir, self.id_file = located
        super().__init__(
            ann_file='' if split == 'test' else ann_path,
            data_root=data_root,
            data_prefix=dict(img=image_dir),
            test_mode=split != 'train' if test_mode is None else test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the split: CSV rows (train / val) or ``test_id.txt`` (test), plus every image's size."""
        image_dir = self.data_prefix['img']
        if self.split == 'test':
            names = [f'{image_id}.jpg' for image_id in read_id_list(self.id_file)]
            keypoints = None
        else:
            names, keypoints = read_lip_gt_csv(self.ann_file)
        paths = [osp.join(image_dir, name) for name in names]
        sizes = _image_sizes(paths, source=self.id_file if self.split == 'test' else self.ann_file)

        data_list = []
        for index, (name, path, (width, height)) in enumerate(zip(names, paths, sizes)):
            info = dict(
                id=index,
                img_id=index,
                img_path=path,
                bbox=np.array([[0, 0, width, height]], dtype=np.float32),
                bbox_score=np.ones(1, dtype=np.float32),
                area=np.array(width * height, dtype=np.float32),
                iscrowd=0,
                category_id=np.array(1),
                raw_ann_info=dict(image_name=name, width=width, height=height, lip_keypoints=None),
            )
            if keypoints is not None:
                joints = keypoints[index]
                labelled = ~np.isnan(joints[:, :2]).any(axis=1)
                if not labelled.any() and not self.test_mode:
                    continue
                info.update(
                    keypoints=np.where(labelled[:, None], joints[:, :2], 0).astype(np.float32)[None],
                    keypoints_visible=labelled.astype(np.float32)[None],
                    keypoints_occluded=np.where(labelled, np.nan_to_num(joints[:, 2]), 0).astype(
                        np.float32)[None],
                    num_keypoints=int(labelled.sum()),
                )
                info['raw_ann_info']['lip_keypoints'] = joints.copy()
            data_list.append(info)
        return data_list


def _absolute(path) -> str:
    return None if path is None else os.path.abspath(path)


def _under(root, path) -> Path:
    path = Path(path)
    return path if path.is_absolute() or not root else Path(root) / path


def _image_size(path: str) -> Tuple[int, int]:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as image:  # reads the header only
            return image.size
    except FileNotFoundError:
        raise LipToolkitError('image not found', path) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise LipToolkitError(f'cannot read image header: {exc}', path) from None


def _image_sizes(paths: List[str], source) -> List[Tuple[int, int]]:
    """(width, height) of each image, read from headers in a few threads (30k images take seconds)."""
    if not paths:
        raise LipToolkitError('the split lists no images', source)
    workers = min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(progress(pool.map(_image_size, paths, chunksize=64), total=len(paths),
                             desc='LIP image sizes', unit='img'))
