"""Cut multi-human parsing data (CIHP, MHP v2) into single-person samples in LIP's 20 classes and LIP's layout.

Each annotated person becomes one sample: the person's box (widened by ``margin`` on every side, clipped to the
image) is cropped from the image and from the label map; the person's own pixels keep their (mapped) labels,
pixels that belong to any *other* person become 255 (ignored by the loss and the metric, since their parts are
not this person's), and unannotated pixels stay background (0). The output is a LIP release tree, so
``LIPParsingDataset(data_root=DST, split='train')`` reads it directly and it can be concatenated with LIP.

Label decisions (see ``docs/parsing_data.md``):

* CIHP uses LIP's 20 ids except id 10, which is *Torso-skin* in CIHP but *Jumpsuits* in LIP. Keeping 10 would teach
  "Jumpsuits" on bare torsos. LIP has no torso-skin class and what its annotators did with bare torsos is not
  documented, so torso skin becomes 255 (``torso_skin='ignore'``, default) or background (``'background'``).
* MHP v2's 58 classes are mapped by :data:`MHP_V2_TO_LIP`: a clear LIP counterpart where one exists (cap, helmet
  and headwear -> Hat; t-shirt, polo, sweater, singlet, bra and other upper-body clothes -> Upper-clothes; jacket ->
  Coat; shorts -> Pants; boots, shoes, high heels, sandals -> shoes; hands -> arms and bare feet -> legs, sides
  kept); carried objects that LIP has no class for (bags, ball, bats, bottle, cases, umbrella, wallet) ->
  background, as everything outside LIP's 19 parts is background in LIP; worn items whose LIP label cannot be
  inferred (torso skin, stockings, belt, tie, watch, wristband, protector, robe, other full-body / lower-body
  clothes, other accessories) -> 255. MHP's left/right classes are taken as the person's own sides, as in LIP.
"""
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ...core.errors import LipToolkitError
from ...core.io import atomic_directory, check_output, read_id_list
from ..classes import IGNORE_INDEX, LIP_CLASSES
from ..label_io import check_same_size, decode_label_png

CIHP_TORSO_SKIN = 10
TORSO_SKIN_POLICIES = {'ignore': IGNORE_INDEX, 'background': 0}
ON_ERROR_POLICIES = ('stop', 'skip')
# Persons lower than this (pixels, own box) are left out by default: too small to teach anything at 473x473.
DEFAULT_MIN_HEIGHT = 32

MHP_V2_CLASSES: Tuple[str, ...] = (
    'background', 'cap/hat', 'helmet', 'face', 'hair', 'left-arm', 'right-arm', 'left-hand', 'right-hand',
    'protector', 'bikini/bra', 'jacket/windbreaker/hoodie', 't-shirt', 'polo-shirt', 'sweater', 'singlet',
    'torso-skin', 'pants', 'shorts/swim-shorts', 'skirt', 'stockings', 'socks', 'left-boot', 'right-boot',
    'left-shoe', 'right-shoe', 'left-highheel', 'right-highheel', 'left-sandal', 'right-sandal', 'left-leg',
    'right-leg', 'left-foot', 'right-foot', 'coat', 'dress', 'robe', 'jumpsuits', 'other-full-body-clothes',
    'headwear', 'backpack', 'ball', 'bats', 'belt', 'bottle', 'carrybag', 'cases', 'sunglasses', 'eyewear',
    'gloves', 'scarf', 'umbrella', 'wallet/purse', 'watch', 'wristband', 'tie', 'other-accessaries',
    'other-upper-body-clothes', 'other-lower-body-clothes')
MHP_V2_TORSO_SKIN = 16

_L = {name: index for index, name in enumerate(LIP_CLASSES)}
_IGNORED = IGNORE_INDEX
#: MHP v2 class id -> LIP class id (255 = ignored). Torso skin follows the ``torso_skin`` policy.
MHP_V2_TO_LIP: Dict[int, int] = {
    0: 0, 1: _L['Hat'], 2: _L['Hat'], 3: _L['Face'], 4: _L['Hair'],
    5: _L['Left-arm'], 6: _L['Right-arm'], 7: _L['Left-arm'], 8: _L['Right-arm'],
    9: _IGNORED, 10: _L['Upper-clothes'], 11: _L['Coat'], 12: _L['Upper-clothes'], 13: _L['Upper-clothes'],
    14: _L['Upper-clothes'], 15: _L['Upper-clothes'], 16: _IGNORED, 17: _L['Pants'], 18: _L['Pants'],
    19: _L['Skirt'], 20: _IGNORED, 21: _L['Socks'],
    22: _L['Left-shoe'], 23: _L['Right-shoe'], 24: _L['Left-shoe'], 25: _L['Right-shoe'],
    26: _L['Left-shoe'], 27: _L['Right-shoe'], 28: _L['Left-shoe'], 29: _L['Right-shoe'],
    30: _L['Left-leg'], 31: _L['Right-leg'], 32: _L['Left-leg'], 33: _L['Right-leg'],
    34: _L['Coat'], 35: _L['Dress'], 36: _IGNORED, 37: _L['Jumpsuits'], 38: _IGNORED, 39: _L['Hat'],
    40: 0, 41: 0, 42: 0, 43: _IGNORED, 44: 0, 45: 0, 46: 0,
    47: _L['Sunglasses'], 48: _L['Sunglasses'], 49: _L['Glove'], 50: _L['Scarf'], 51: 0, 52: 0,
    53: _IGNORED, 54: _IGNORED, 55: _IGNORED, 56: _IGNORED, 57: _L['Upper-clothes'], 58: _IGNORED,
}

# LIP output layout per split: (image folder, id list, annotation folder), relative to the output root.
_LIP_OUTPUT = {
    'train': ('TrainVal_images/train_images', 'TrainVal_images/train_id.txt',
              'TrainVal_parsing_annotations/train_segmentations'),
    'val': ('TrainVal_images/val_images', 'TrainVal_images/val_id.txt',
            'TrainVal_parsing_annotations/val_segmentations'),
}


def cihp_lookup(torso_skin: str = 'ignore') -> np.ndarray:
    """256-entry table CIHP id -> LIP id; entries that are not CIHP ids map to -1 (invalid)."""
    table = np.full(256, -1, np.int16)
    table[:20] = np.arange(20)
    table[CIHP_TORSO_SKIN] = TORSO_SKIN_POLICIES[torso_skin]
    table[IGNORE_INDEX] = IGNORE_INDEX
    return table


def mhp_lookup(torso_skin: str = 'ignore') -> np.ndarray:
    """256-entry table MHP v2 id -> LIP id; entries that are not MHP v2 ids map to -1 (invalid)."""
    table = np.full(256, -1, np.int16)
    for source, target in MHP_V2_TO_LIP.items():
        table[source] = target
    table[MHP_V2_TORSO_SKIN] = TORSO_SKIN_POLICIES[torso_skin]
    return table


@dataclass
class ConversionReport:
    """What a conversion wrote and what it had to leave out."""

    dataset: str
    out_dir: Path
    images: Dict[str, int] = field(default_factory=dict)     # source images converted, per split
    samples: Dict[str, int] = field(default_factory=dict)    # single-person samples written, per split
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # (source item, reason) under on_error='skip'
    empty_persons: int = 0                                     # persons with no labelled pixel (nothing to crop)
    small_persons: int = 0                                     # persons whose box is lower than min_height

    def summary(self) -> str:
        parts = [f'{split}: {self.samples[split]} persons from {self.images[split]} images'
                 for split in self.samples]
        line = f'{self.dataset} -> {self.out_dir}: ' + '; '.join(parts)
        if self.empty_persons:
            line += f'; {self.empty_persons} persons without labelled pixels left out'
        if self.small_persons:
            line += f'; {self.small_persons} persons lower than the minimum height left out'
        if self.skipped:
            line += f'; {len(self.skipped)} bad items skipped (listed in skipped.txt)'
        return line


class PersonSample(NamedTuple):
    """One person cut out of a multi-human image (``image``/``label`` None when the person has no pixel)."""

    person: int
    image: Optional[np.ndarray]
    label: Optional[np.ndarray]
    box_height: int  # height of the person's own box, before the margin


def person_window(mask: np.ndarray, margin: float) -> Tuple[slice, slice]:
    """The bounding box of ``mask`` widened by ``margin`` x its size on each side, clipped to the image."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    pad_y = int(round((bottom - top) * margin))
    pad_x = int(round((right - left) * margin))
    height, width = mask.shape
    return (slice(max(0, top - pad_y), min(height, bottom + pad_y)),
            slice(max(0, left - pad_x), min(width, right + pad_x)))


def crop_person(image: np.ndarray, labels: np.ndarray, own: np.ndarray, others: np.ndarray,
                margin: float) -> Tuple[np.ndarray, np.ndarray]:
    """One person's sample: crop around ``own``; other persons' pixels (``others`` and not ``own``) -> 255.

    Args:
        image: ``(H, W, 3)`` image.
        labels: ``(H, W)`` LIP labels for this person's pixels; outside ``own`` only 255 is kept, the rest
            becomes background.
        own: this person's pixels.
        others: pixels of every other person (may overlap ``own``; ``own`` wins).
        margin: context around the person's box, as a fraction of its size.
    """
    window = person_window(own, margin)
    crop = labels[window]
    # outside the person: background, except what is already marked ignored stays ignored
    label = np.where(own[window] | (crop == IGNORE_INDEX), crop, 0).astype(np.uint8)
    label[others[window] & ~own[window]] = IGNORE_INDEX
    return np.ascontiguousarray(image[window]), label


def _height(mask: np.ndarray) -> int:
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def _read_image(path: Path) -> np.ndarray:
    import cv2
    if not path.is_file():
        raise LipToolkitError('image not found', path)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise LipToolkitError('could not decode image', path)
    return image


def _map_labels(raw: np.ndarray, table: np.ndarray, path: Path, what: str) -> np.ndarray:
    mapped = table[raw]
    bad = mapped < 0
    if bad.any():
        y, x = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise LipToolkitError(f'value {int(raw[y, x])} is not a {what} class id', path, f'pixel (x={x}, y={y})')
    return mapped.astype(np.uint8)


# ---------------------------------------------------------------- CIHP

def find_cihp_root(src) -> Path:
    """``instance-level_human_parsing`` itself, or a folder holding it."""
    src = Path(src)
    for candidate in (src, src / 'instance-level_human_parsing'):
        if (candidate / 'Training').is_dir():
            return candidate
    raise LipToolkitError('not a CIHP folder: no Training/ (or instance-level_human_parsing/Training/)', src)


_CIHP_SPLITS = {'train': ('Training', 'train_id.txt'), 'val': ('Validation', 'val_id.txt')}


def _cihp_split(root: Path, split: str) -> Optional[Tuple[Path, List[str]]]:
    folder, id_name = _CIHP_SPLITS[split]
    base = root / folder
    if not base.is_dir():
        return None
    for id_file in (base / id_name, root / id_name):
        if id_file.is_file():
            return base, read_id_list(id_file)
    raise LipToolkitError(f'no {id_name} in {folder}/ or beside it', base)


def cihp_persons(base: Path, image_id: str, table: np.ndarray, margin: float):
    """Single-person samples of one CIHP image: ``[(person number, image crop, LIP label crop), ...]``."""
    image = _read_image(base / 'Images' / f'{image_id}.jpg')
    category_path = base / 'Category_ids' / f'{image_id}.png'
    human_path = base / 'Human_ids' / f'{image_id}.png'
    categories = decode_label_png(category_path)
    humans = decode_label_png(human_path)
    check_same_size(categories, image.shape, category_path, reference='image')
    check_same_size(humans, image.shape, human_path, reference='image')
    labels = _map_labels(categories, table, category_path, 'CIHP')
    # a part label outside every person cannot be given to anyone: ignore it rather than call it background
    labels[(humans == 0) & (labels != 0)] = IGNORE_INDEX
    people = humans != 0
    samples = []
    for person in np.unique(humans[people]):
        own = humans == person
        samples.append(PersonSample(int(person), *crop_person(image, labels, own, people, margin), _height(own)))
    return samples


# ---------------------------------------------------------------- MHP v2

def find_mhp_root(src) -> Path:
    """``LV-MHP-v2`` itself, or a folder holding it."""
    src = Path(src)
    for candidate in (src, src / 'LV-MHP-v2'):
        if (candidate / 'list').is_dir() and (candidate / 'train').is_dir():
            return candidate
    raise LipToolkitError('not an MHP v2 folder: no list/ and train/ (or LV-MHP-v2/list, LV-MHP-v2/train)', src)


def _mhp_split(root: Path, split: str) -> Optional[Tuple[Path, List[str]]]:
    base = root / split
    id_file = root / 'list' / f'{split}.txt'
    if not base.is_dir() or not id_file.is_file():
        if split == 'train':
            raise LipToolkitError(f'MHP v2 train split needs {split}/ and list/{split}.txt', root)
        return None
    return base, read_id_list(id_file)


def _index_mhp_annotations(folder: Path) -> Dict[str, List[Tuple[int, int, str]]]:
    """``{image id: [(persons in image, person index, file name), ...]}`` from ``<id>_<NN>_<kk>.png`` names."""
    if not folder.is_dir():
        raise LipToolkitError('annotation folder not found', folder)
    index: Dict[str, List[Tuple[int, int, str]]] = {}
    for entry in os.scandir(folder):
        name = entry.name
        if not name.endswith('.png'):
            continue
        parts = name[:-4].rsplit('_', 2)
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            continue
        index.setdefault(parts[0], []).append((int(parts[1]), int(parts[2]), name))
    return index


def mhp_persons(base: Path, image_id: str, files: Sequence[Tuple[int, int, str]], table: np.ndarray,
                margin: float):
    """Single-person samples of one MHP v2 image (one annotation PNG per person, labels in the red channel)."""
    annos = base / 'parsing_annos'
    if not files:
        raise LipToolkitError(f'no annotation files {image_id}_NN_kk.png', annos)
    counts = {count for count, _, _ in files}
    indices = sorted(person for _, person, _ in files)
    if len(counts) != 1 or indices != list(range(1, counts.pop() + 1)):
        raise LipToolkitError(f'person files {", ".join(sorted(n for _, _, n in files))} do not match their '
                              f'declared count (<id>_<NN>_<kk>.png, kk = 01..NN)', annos)
    image = _read_image(base / 'images' / f'{image_id}.jpg')
    persons = []
    for _, person, name in sorted(files, key=lambda item: item[1]):
        path = annos / name
        raw = decode_label_png(path, rgb_channel='R')
        check_same_size(raw, image.shape, path, reference='image')
        persons.append((person, raw != 0, _map_labels(raw, table, path, 'MHP v2')))
    samples = []
    for person, own, labels in persons:
        if not own.any():
            samples.append(PersonSample(person, None, None, 0))
            continue
        others = np.zeros_like(own)
        for other, other_own, _ in persons:
            if other != person:
                others |= other_own
        samples.append(PersonSample(person, *crop_person(image, labels, own, others, margin), _height(own)))
    return samples


# ---------------------------------------------------------------- shared driver

@dataclass
class _Job:
    """One source image to convert (picklable, for the worker pool)."""

    split: str
    image_id: str
    source: Callable
    args: tuple
    min_height: int = 0


def _write_sample(out_root: Path, split: str, sample_id: str, image: np.ndarray, label: np.ndarray) -> None:
    import cv2
    image_dir, _, seg_dir = _LIP_OUTPUT[split]
    ok_image = cv2.imwrite(str(out_root / image_dir / f'{sample_id}.jpg'), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    ok_label = cv2.imwrite(str(out_root / seg_dir / f'{sample_id}.png'), label)
    if not (ok_image and ok_label):
        # an output failure (disk full ...) is never a bad source item: it always stops the conversion
        raise OSError(f'could not write sample {sample_id} under {out_root}')


def _run_job(task):
    job, out_root = task
    try:
        import cv2
        cv2.setNumThreads(1)
        written, empty, small = [], 0, 0
        for sample in job.source(*job.args):
            if sample.image is None:
                empty += 1
                continue
            if sample.box_height < job.min_height:
                small += 1
                continue
            sample_id = f'{job.image_id}_{sample.person:02d}'
            _write_sample(out_root, job.split, sample_id, sample.image, sample.label)
            written.append(sample_id)
        return 'ok', job.split, job.image_id, written, (empty, small)
    except LipToolkitError as exc:
        return 'error', job.split, job.image_id, exc.one_line(), (exc.message, exc.path, exc.location)


def _check_options(on_error: str, torso_skin: str, margin: float, min_height: int) -> None:
    if on_error not in ON_ERROR_POLICIES:
        raise LipToolkitError(f'on_error must be one of {", ".join(ON_ERROR_POLICIES)}, got {on_error!r}')
    if torso_skin not in TORSO_SKIN_POLICIES:
        raise LipToolkitError(f'torso_skin must be one of {", ".join(TORSO_SKIN_POLICIES)}, got {torso_skin!r}')
    if not 0 <= margin <= 1:
        raise LipToolkitError(f'margin must be between 0 and 1, got {margin}')
    if min_height < 0:
        raise LipToolkitError(f'min_height must be >= 0, got {min_height}')


def _prepare_output(dst: Path, overwrite: bool) -> None:
    check_output(dst, overwrite)


def _convert(dataset: str, jobs_by_split: Dict[str, List[_Job]], dst, on_error: str, workers: Optional[int],
             options: dict) -> ConversionReport:
    from ...core.progress import info, progress
    from ...core.pools import default_workers, process_pool
    dst = Path(dst)
    report = ConversionReport(dataset=dataset, out_dir=dst)
    with atomic_directory(dst) as tmp:
        for split in jobs_by_split:
            for sub in (_LIP_OUTPUT[split][0], _LIP_OUTPUT[split][2]):
                (tmp / sub).mkdir(parents=True, exist_ok=True)
        tasks = [(job, tmp) for jobs in jobs_by_split.values() for job in jobs]
        workers = default_workers() if workers is None else max(1, int(workers))
        written: Dict[str, List[str]] = {split: [] for split in jobs_by_split}
        converted = {split: 0 for split in jobs_by_split}

        def consume(results):
            for status, split, image_id, *rest in progress(results, total=len(tasks), desc=f'{dataset} crops',
                                                           unit='img'):
                if status == 'error':
                    line, (message, path, location) = rest
                    if on_error == 'stop':
                        raise LipToolkitError(f'{message} (image {image_id}; --on-error skip to leave it out)',
                                              path, location)
                    report.skipped.append((f'{split}/{image_id}', line))
                    continue
                names, (empty, small) = rest
                written[split].extend(names)
                converted[split] += 1
                report.empty_persons += empty
                report.small_persons += small

        if workers == 1 or len(tasks) < 32:
            consume(map(_run_job, tasks))
        else:
            with process_pool(min(workers, len(tasks))) as pool:
                consume(pool.imap(_run_job, tasks, chunksize=8))
        if not any(written.values()):
            raise LipToolkitError(f'no single-person sample could be made from {dataset}', options['source'])
        for split, names in written.items():
            (tmp / _LIP_OUTPUT[split][1]).write_text(''.join(f'{name}\n' for name in sorted(names)),
                                                     encoding='utf-8')
            report.samples[split] = len(names)
            report.images[split] = converted[split]
        if report.skipped:
            (tmp / 'skipped.txt').write_text(''.join(f'{item}\t{reason}\n' for item, reason in report.skipped),
                                             encoding='utf-8')
        provenance = dict(dataset=dataset, **options, samples=report.samples, images=report.images,
                          skipped=len(report.skipped), empty_persons=report.empty_persons,
                          small_persons=report.small_persons)
        (tmp / 'conversion.json').write_text(json.dumps(provenance, indent=2, default=str) + '\n',
                                             encoding='utf-8')
    for item, reason in report.skipped:
        info(f'skipped {item}: {reason}')
    return report


def convert_cihp(src, dst, on_error: str = 'stop', torso_skin: str = 'ignore', margin: float = 0.1,
                 min_height: int = DEFAULT_MIN_HEIGHT, workers: Optional[int] = None,
                 overwrite: bool = False) -> ConversionReport:
    """Write CIHP's persons as a LIP-layout single-person parsing tree (``lip-toolkit data cihp``).

    Args:
        src: ``instance-level_human_parsing`` (``Training``/``Validation`` with ``Images``, ``Category_ids``,
            ``Human_ids`` and ``train_id.txt``/``val_id.txt``), or the folder holding it.
        dst: output folder (LIP layout; written atomically, complete or not at all).
        on_error: ``'stop'`` at the first bad item (missing or unreadable file, size mismatch, invalid label), or
            ``'skip'`` it, listing every skipped item in ``DST/skipped.txt`` and the report.
        torso_skin: CIHP's class 10 (Torso-skin, no LIP class): ``'ignore'`` (255) or ``'background'`` (0).
        margin: context around each person's box, as a fraction of its size per side.
        min_height: persons whose own box is lower than this many pixels are left out (counted in the report):
            distant bystanders would be blown up to the training crop size as a few huge pixels.
        workers: processes (default: all available CPUs).
        overwrite: replace a non-empty ``dst``.

    Returns:
        :class:`ConversionReport`. Samples are named ``<CIHP id>_<person number, 2 digits>``.
    """
    _check_options(on_error, torso_skin, margin, min_height)
    root = find_cihp_root(src)
    dst = Path(dst)
    _prepare_output(dst, overwrite)
    table = cihp_lookup(torso_skin)
    jobs = {}
    for split in ('train', 'val'):
        found = _cihp_split(root, split)
        if found is None:
            if split == 'train':
                raise LipToolkitError('CIHP Training/ folder missing', root)
            continue
        base, ids = found
        jobs[split] = [_Job(split, image_id, cihp_persons, (base, image_id, table, margin), min_height)
                       for image_id in ids]
    options = dict(source=str(root), torso_skin=torso_skin, margin=margin, min_height=min_height,
                   on_error=on_error)
    return _convert('CIHP', jobs, dst, on_error, workers, options)


def convert_mhp(src, dst, on_error: str = 'stop', torso_skin: str = 'ignore', margin: float = 0.1,
                min_height: int = DEFAULT_MIN_HEIGHT, workers: Optional[int] = None,
                overwrite: bool = False) -> ConversionReport:
    """Write MHP v2's persons as a LIP-layout single-person parsing tree (``lip-toolkit data mhp``).

    Args:
        src: ``LV-MHP-v2`` (``{train,val}/images``, ``{train,val}/parsing_annos/<id>_<NN>_<kk>.png`` with the
            label in the red channel, ``list/{train,val}.txt``), or the folder holding it.
        dst, on_error, torso_skin, margin, min_height, workers, overwrite: as in :func:`convert_cihp` (``torso_skin`` applies
            to MHP's class 16).

    Returns:
        :class:`ConversionReport`. Samples are named ``<MHP id>_<kk>``; labels mapped by :data:`MHP_V2_TO_LIP`.
    """
    _check_options(on_error, torso_skin, margin, min_height)
    root = find_mhp_root(src)
    dst = Path(dst)
    _prepare_output(dst, overwrite)
    table = mhp_lookup(torso_skin)
    jobs = {}
    for split in ('train', 'val'):
        found = _mhp_split(root, split)
        if found is None:
            continue
        base, ids = found
        files = _index_mhp_annotations(base / 'parsing_annos')
        jobs[split] = [_Job(split, image_id, mhp_persons, (base, image_id, files.get(image_id, []), table, margin),
                            min_height) for image_id in ids]
    options = dict(source=str(root), torso_skin=torso_skin, margin=margin, min_height=min_height,
                   on_error=on_error)
    return _convert('MHP v2', jobs, dst, on_error, workers, options)
