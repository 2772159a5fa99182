"""Write a synthetic LIP release tree: per-image seeded rendering, parallel workers, atomic output."""
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import LipToolkitError
from ..core.io import PathLike, atomic_directory, check_output
from ..core.pools import default_workers
from ..core.progress import progress

# Split name -> (stream number for seeding, image folder, id list, CSV name or None, label folder or None).
_SPLITS = {
    'train': (1, 'TrainVal_images/train_images', 'TrainVal_images/train_id.txt',
              'TrainVal_pose_annotations/lip_train_set.csv', 'TrainVal_parsing_annotations/train_segmentations'),
    'val': (2, 'TrainVal_images/val_images', 'TrainVal_images/val_id.txt',
            'TrainVal_pose_annotations/lip_val_set.csv', 'TrainVal_parsing_annotations/val_segmentations'),
    'test': (3, 'Testing_images/testing_images', 'Testing_images/test_id.txt', None, None),
}
_TOP_LEVEL = frozenset(['TrainVal_images', 'TrainVal_pose_annotations', 'TrainVal_parsing_annotations',
                        'Testing_images'])
_NAME_STREAM = 0
# Below this many images a process pool costs more than it saves.
_PARALLEL_MIN_IMAGES = 160


@dataclass
class SyntheticLipSummary:
    """What :func:`synthesize_lip` wrote."""

    root: Path
    counts: Dict[str, int]
    seconds: float

    def one_line(self) -> str:
        counts = ' / '.join(f'{self.counts[s]} {s}' for s in ('train', 'val', 'test'))
        return f'synthetic LIP: {counts} images -> {self.root} ({self.seconds:.1f} s)'


def _image_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """Every image has its own generator, so images do not depend on the split sizes or on the worker."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(stream), int(index)]))


def _make_names(seed: int, counts: Dict[str, int]) -> Dict[str, List[str]]:
    """LIP-like ids ``<digits>_<digits>``, unique over all splits, each split sorted like the real id lists."""
    used, names = set(), {}
    for split in ('train', 'val', 'test'):
        stream = _SPLITS[split][0]
        split_names = []
        for index in range(counts[split]):
            rng = _image_rng(seed, _NAME_STREAM, stream * 10_000_000 + index)
            first, second = int(rng.integers(1, 600_000)), int(rng.integers(100_000, 600_000))
            while f'{first}_{second}' in used:        # rare: walk to the next free id, deterministically
                second += 1
            used.add(f'{first}_{second}')
            split_names.append((f'{first}_{second}', index))
        names[split] = split_names
    return names


def _render_job(job: Tuple[str, int, int, str, str]) -> Tuple[str, Optional[str]]:
    """Render one image, write its JPEG (and label PNG), return (name, CSV row or None)."""
    import cv2

    from .render import render_sample
    split, seed, index, name, root = job
    stream, image_dir, _, csv_name, label_dir = _SPLITS[split]
    rng = _image_rng(seed, stream, index)
    sample = render_sample(rng)
    quality = int(rng.integers(70, 96))
    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise LipToolkitError('JPEG encoding failed', Path(root) / image_dir / f'{name}.jpg')
    (Path(root) / image_dir / f'{name}.jpg').write_bytes(jpeg.tobytes())
    if label_dir is None:
        return name, None
    ok, png = cv2.imencode('.png', sample.labels)
    (Path(root) / label_dir / f'{name}.png').write_bytes(png.tobytes())
    fields = [f'{name}.jpg']
    for x, y, v in sample.keypoints:
        fields.extend(('nan', 'nan', 'nan') if x < 0 else (str(int(x)), str(int(y)), str(int(v))))
    return name, ','.join(fields)


def _worker_init() -> None:
    import cv2
    cv2.setNumThreads(1)  # one process per core already; nested threads only contend


def synthesize_lip(out_dir: PathLike, train: int = 64, val: int = 24, test: int = 8, seed: int = 0,
                   overwrite: bool = False, workers: Optional[int] = None) -> SyntheticLipSummary:
    """Write a synthetic LIP release tree to ``out_dir``.

    The tree is the real release's layout: ``TrainVal_images/{train,val}_images/*.jpg`` with
    ``TrainVal_images/{train,val}_id.txt``, ``TrainVal_pose_annotations/lip_{train,val}_set.csv`` (no header,
    ``<id>.jpg`` then 16 x (x, y, v), 1-based integer coordinates, ``nan,nan,nan`` for unlabelled joints),
    ``TrainVal_parsing_annotations/{train,val}_segmentations/*.png`` (8-bit, class ids 0-19) and
    ``Testing_images/testing_images/*.jpg`` with ``Testing_images/test_id.txt``.

    Args:
        out_dir: folder to create. It may exist only if empty, unless ``overwrite``.
        train: number of training images.
        val: number of validation images.
        test: number of test images (images and id list only, like the real release).
        seed: the same seed gives byte-identical files, whatever the number of workers.
        overwrite: replace an existing non-empty ``out_dir`` (swapped in only once complete); only a folder
            that holds nothing but LIP's top-level folders is ever replaced.
        workers: processes to render with; default: one per available core (serial for small sets). The
            processes are spawned, so a script that calls this with more than one worker needs the usual
            ``if __name__ == '__main__':`` guard.

    Returns:
        A :class:`SyntheticLipSummary` (root, counts per split, seconds).

    Raises:
        LipToolkitError: negative counts, an ``out_dir`` that is a file, non-empty without ``overwrite`` or
            holding anything but a LIP tree, or not writable.

    Example:
        >>> import tempfile
        >>> summary = synthesize_lip(tempfile.mkdtemp() + '/lip', train=2, val=1, test=1, seed=0)
        >>> summary.counts
        {'train': 2, 'val': 1, 'test': 1}
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    counts = {'train': train, 'val': val, 'test': test}
    for split, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise LipToolkitError(f'--{split} must be a non-negative integer, got {count!r}')
    counts = {k: int(v) for k, v in counts.items()}
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise LipToolkitError(f'--seed must be a non-negative integer, got {seed!r}')
    ancestor = out_dir.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise LipToolkitError('is not a folder, cannot create the output inside it', ancestor)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise LipToolkitError('output exists and is not a folder', out_dir)
        check_output(out_dir, overwrite)
        entries = sorted(entry.name for entry in out_dir.iterdir())
        foreign = [name for name in entries if name not in _TOP_LEVEL]
        if foreign:
            # --overwrite replaces the whole folder: never one that holds anything but a LIP tree.
            raise LipToolkitError(f'output folder holds {foreign[0]!r}, which is not part of a LIP tree; '
                                  'not replacing it (choose a new or empty folder)', out_dir)
    names = _make_names(seed, counts)
    total = sum(counts.values())
    workers = default_workers() if workers is None else max(1, int(workers))
    with atomic_directory(out_dir) as tmp:
        for split, (_, image_dir, id_file, csv_name, label_dir) in _SPLITS.items():
            (tmp / image_dir).mkdir(parents=True)
            if label_dir is not None:
                (tmp / label_dir).mkdir(parents=True)
                (tmp / csv_name).parent.mkdir(parents=True, exist_ok=True)
        jobs = [(split, int(seed), index, name, str(tmp))
                for split in ('train', 'val', 'test') for name, index in names[split]]
        rows = _run_jobs(jobs, workers, total)
        for split, (_, _, id_file, csv_name, _) in _SPLITS.items():
            ordered = sorted(name for name, _ in names[split])
            (tmp / id_file).write_text(''.join(f'{n}\n' for n in ordered), encoding='utf-8')
            if csv_name is not None:
                lines = [rows[(split, n)] for n in ordered]
                (tmp / csv_name).write_text(''.join(f'{line}\n' for line in lines), encoding='utf-8')
    return SyntheticLipSummary(root=out_dir, counts=counts, seconds=time.perf_counter() - start)


def _run_jobs(jobs: Sequence[Tuple], workers: int, total: int) -> Dict[Tuple[str, str], Optional[str]]:
    rows = {}
    bar = progress(total=total, desc='synthetic LIP', unit='img')
    try:
        if workers > 1 and total >= _PARALLEL_MIN_IMAGES:
            import multiprocessing
            context = multiprocessing.get_context('spawn')   # safe even when the caller has threads (torch)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init)
            try:
                for job, (name, row) in zip(jobs, pool.map(_render_job, jobs, chunksize=16)):
                    rows[(job[0], name)] = row
                    bar.update(1)
            finally:
                # On an error or Ctrl-C, drop the queued images instead of rendering them all first.
                pool.shutdown(wait=True, cancel_futures=True)
        else:
            for job in jobs:
                name, row = _render_job(job)
                rows[(job[0], name)] = row
                bar.update(1)
    finally:
        bar.close()
    return rows
