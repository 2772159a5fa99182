"""LIP single-person parsing in the layout of the LIP release, as an MMSeg dataset.

The release (and :func:`lip_toolkit.synthetic.synthesize_lip`) is laid out as::

    ROOT/TrainVal_images/{train,val}_images/<id>.jpg
    ROOT/TrainVal_images/{train,val}_id.txt
    ROOT/TrainVal_parsing_annotations/{train,val}_segmentations/<id>.png
    ROOT/Testing_images/testing_images/<id>.jpg
    ROOT/Testing_images/test_id.txt

Unzipping the archives often adds one more level of the same name (``TrainVal_images/TrainVal_images/...``);
both are found. MMSeg's own ``LIPDataset`` expects a flattened copy (``train_images``, ``train_segmentations``
side by side) and lists folders instead of reading the id lists; :class:`LIPParsingDataset` keeps everything else
of it (suffixes, loading) and reads the release as it is.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from mmseg.datasets import LIPDataset
from mmseg.registry import DATASETS

from ...core.errors import LipToolkitError
from ...core.io import read_id_list
from ..classes import LIP_CLASSES, LIP_PALETTE

# split -> (top folder, image folder, id list, annotation top folder, annotation folder)
_RELEASE_LAYOUT = {
    'train': ('TrainVal_images', 'train_images', 'train_id.txt', 'TrainVal_parsing_annotations',
              'train_segmentations'),
    'val': ('TrainVal_images', 'val_images', 'val_id.txt', 'TrainVal_parsing_annotations', 'val_segmentations'),
    'test': ('Testing_images', 'testing_images', 'test_id.txt', None, None),
}
SPLITS = tuple(_RELEASE_LAYOUT)


@dataclass(frozen=True)
class LIPSplitPaths:
    """Where one split of a LIP release lives."""

    image_dir: Path
    id_file: Path
    seg_dir: Optional[Path]  # None for the test split (no annotations)


def _candidates(root: Path, top: str) -> List[Path]:
    # The doubly nested unzip layout first: it is the one whose files are real when both exist.
    return [root / top / top, root / top]


def find_lip_split(data_root, split: str) -> LIPSplitPaths:
    """Locate a split's image folder, id list and (train/val) annotation folder under ``data_root``.

    Raises:
        LipToolkitError: unknown split, or a folder or id list missing (the message names what was looked for).
    """
    if split not in _RELEASE_LAYOUT:
        raise LipToolkitError(f'unknown split {split!r}; expected one of {", ".join(SPLITS)}')
    root = Path(data_root)
    if not root.is_dir():
        raise LipToolkitError('LIP data root not found', root)
    top, image_sub, id_name, seg_top, seg_sub = _RELEASE_LAYOUT[split]
    image_dir = _first_existing([c / image_sub for c in _candidates(root, top)], is_dir=True)
    if image_dir is None:
        raise LipToolkitError(f'no {top}/{image_sub} folder (also looked in {top}/{top}/)', root)
    id_file = _first_existing([image_dir.parent / id_name] + [c / id_name for c in _candidates(root, top)],
                              is_dir=False)
    if id_file is None:
        raise LipToolkitError(f'no {id_name} beside {image_sub}', image_dir.parent)
    seg_dir = None
    if seg_top is not None:
        seg_dir = _first_existing([c / seg_sub for c in _candidates(root, seg_top)], is_dir=True)
        if seg_dir is None:
            raise LipToolkitError(f'no {seg_top}/{seg_sub} folder (also looked in {seg_top}/{seg_top}/)', root)
    return LIPSplitPaths(image_dir=image_dir, id_file=id_file, seg_dir=seg_dir)


def _first_existing(paths, is_dir: bool) -> Optional[Path]:
    for path in paths:
        if (path.is_dir() if is_dir else path.is_file()):
            return path
    return None


def _missing(folder: Path, names: List[str]) -> List[str]:
    present = {entry.name for entry in os.scandir(folder)}
    return [name for name in names if name not in present]


@DATASETS.register_module()
class LIPParsingDataset(LIPDataset):
    """LIP parsing split read from the release layout through its id list (``train_id.txt`` ...).

    Args:
        data_root: the LIP release folder (see the module docstring; the doubly nested unzip layout works too).
        split: ``'train'``, ``'val'`` or ``'test'`` (test has images only: use a pipeline without
            ``LoadAnnotations``).
        check_files: make sure every listed image (and annotation) exists before training starts, so a
            missing file is one clear error now rather than a crash hours later.
        **kwargs: passed to MMSeg's ``BaseSegDataset`` (``pipeline``, ``test_mode``, ``indices`` ...).

    Example config:
        ``dict(type='LIPParsingDataset', data_root='data/LIP', split='val', pipeline=test_pipeline)``
    """

    METAINFO = dict(classes=LIP_CLASSES, palette=[list(colour) for colour in LIP_PALETTE])

    def __init__(self, data_root, split: str = 'train', check_files: bool = True, **kwargs) -> None:
        paths = find_lip_split(data_root, split)
        self.split = split
        self.split_paths = paths
        self.check_files = check_files
        for key in ('ann_file', 'data_prefix'):
            if key in kwargs:
                raise TypeError(f'LIPParsingDataset finds {key} from data_root and split; do not pass it')
        data_prefix = dict(img_path=str(paths.image_dir), seg_map_path=str(paths.seg_dir or ''))
        super().__init__(data_root=str(data_root), ann_file=str(paths.id_file), data_prefix=data_prefix,
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        paths = self.split_paths
        ids = read_id_list(paths.id_file)
        if self.check_files:
            self._check_present(paths.image_dir, [i + self.img_suffix for i in ids], 'images')
            if paths.seg_dir is not None:
                self._check_present(paths.seg_dir, [i + self.seg_map_suffix for i in ids], 'annotations')
        data_list = []
        for image_id in ids:
            info = dict(img_path=str(paths.image_dir / (image_id + self.img_suffix)),
                        label_map=self.label_map, reduce_zero_label=self.reduce_zero_label, seg_fields=[])
            if paths.seg_dir is not None:
                info['seg_map_path'] = str(paths.seg_dir / (image_id + self.seg_map_suffix))
            data_list.append(info)
        return data_list

    def _check_present(self, folder: Path, names: List[str], what: str) -> None:
        missing = _missing(folder, names)
        if missing:
            raise LipToolkitError(
                f'{len(missing)} of {len(names)} {what} listed in {self.split_paths.id_file.name} are missing, '
                f'first: {missing[0]}', folder)
