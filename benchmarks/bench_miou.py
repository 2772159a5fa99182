"""Offline LIP mIoU speed: our scorer (process pool) against decoding the same PNGs in one process.

The scorer is bound by PNG decoding, so the yardstick is the time one process needs just to decode every
ground-truth and prediction PNG (OpenCV for grey, PIL for paletted, no checks, no counting). The target
(issue 4): the full scorer with all available cores takes at most 0.75 x that time. A plain one-process loop that
decodes and counts each pair with ``np.bincount`` is also timed for reference (``--plain-loop``).

Run:
    python benchmarks/bench_miou.py                    # 10,000 LIP-sized pairs (~300 x 200) in a temp folder
    python benchmarks/bench_miou.py --pairs 2000 --data /tmp/miou_pngs --plain-loop

Prints one line per figure and the ratio; exits 1 when the ratio misses the target.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Run from a checkout without installing: the package is one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 0.75


def _person_like_map(rng, height, width):
    """A label map with person-sized blobs of several classes, compressing like real LIP annotations."""
    import cv2
    label = np.zeros((height, width), np.uint8)
    centre_x, centre_y = width // 2, height // 2
    for _ in range(int(rng.integers(6, 12))):
        cls = int(rng.integers(1, 20))
        centre = (int(centre_x + rng.normal(0, width / 6)), int(centre_y + rng.normal(0, height / 5)))
        axes = (int(rng.integers(8, width // 3)), int(rng.integers(8, height // 3)))
        cv2.ellipse(label, centre, axes, float(rng.uniform(0, 180)), 0, 360, cls, -1)
    return label


def _write_pair(task):
    import cv2
    from PIL import Image
    directory, index, seed = task
    rng = np.random.default_rng([seed, index])
    height, width = int(rng.integers(250, 351)), int(rng.integers(150, 251))
    gt = _person_like_map(rng, height, width)
    if index % 10 == 0:
        gt[: height // 12] = 255  # some ignored pixels, as crop padding would leave
    pred = gt.copy()
    pred[gt == 255] = 0
    shift = int(rng.integers(1, 4))
    pred[shift:] = pred[:-shift]                         # a slightly misplaced prediction
    noise = _person_like_map(rng, height, width)
    pred = np.where(rng.random((height, width)) < 0.02, noise, pred).astype(np.uint8)
    name = f'{index:06d}_{index % 7}'
    cv2.imwrite(os.path.join(directory, 'gt', name + '.png'), gt)
    if index % 2:  # half the predictions paletted, as CE2P and SCHP save them
        image = Image.fromarray(pred)
        image.putpalette([value for c in range(256) for value in ((c * 37) % 256, (c * 91) % 256, c)])
        image.save(os.path.join(directory, 'pred', name + '.png'))
    else:
        cv2.imwrite(os.path.join(directory, 'pred', name + '.png'), pred)
    return name


def make_pairs(directory: Path, pairs: int, seed: int = 0) -> list:
    """Write (or reuse) ``pairs`` ground-truth/prediction PNG pairs under ``directory/{gt,pred}``."""
    from lip_toolkit.core.pools import default_workers, process_pool
    gt_dir, pred_dir = directory / 'gt', directory / 'pred'
    existing = sorted(p.stem for p in gt_dir.glob('*.png')) if gt_dir.is_dir() else []
    if len(existing) == pairs and pred_dir.is_dir() and len(list(pred_dir.glob('*.png'))) == pairs:
        return existing
    gt_dir.mkdir(parents=True, exist_ok=True)
    pred_dir.mkdir(parents=True, exist_ok=True)
    tasks = [(str(directory), index, seed) for index in range(pairs)]
    with process_pool(default_workers()) as pool:
        names = pool.map(_write_pair, tasks, chunksize=64)
    return sorted(names)


def _is_paletted(path: Path) -> bool:
    with open(path, 'rb') as handle:
        return handle.read(26)[25] == 3  # IHDR colour type


def decode_only(gt_dir: Path, pred_dir: Path, names) -> float:
    """Seconds one process needs to decode every PNG of the pairs (the yardstick).

    Each file goes straight to its fastest plain decoder (OpenCV for grey, PIL for paletted); which one is looked
    up before the clock starts, so the yardstick carries no overhead of ours.
    """
    import cv2
    from PIL import Image
    jobs = []
    for name in names:
        pred = pred_dir / f'{name}.png'
        jobs.append((str(gt_dir / f'{name}.png'), str(pred), _is_paletted(pred)))
    start = time.perf_counter()
    for gt_path, pred_path, paletted in jobs:
        cv2.imread(gt_path, cv2.IMREAD_UNCHANGED)
        if paletted:
            with Image.open(pred_path) as image:
                np.asarray(image)
        else:
            cv2.imread(pred_path, cv2.IMREAD_UNCHANGED)
    return time.perf_counter() - start


def plain_loop(gt_dir: Path, pred_dir: Path, names) -> float:
    """Seconds for a straightforward one-process decode + per-image bincount loop (reference only)."""
    import cv2
    from PIL import Image
    start = time.perf_counter()
    conf = np.zeros(400, np.int64)
    for name in names:
        gt = cv2.imread(str(gt_dir / f'{name}.png'), cv2.IMREAD_GRAYSCALE).astype(np.int64)
        pred = np.asarray(Image.open(pred_dir / f'{name}.png')).astype(np.int64)
        keep = gt != 255
        conf += np.bincount(gt[keep] * 20 + pred[keep], minlength=400)
    return time.perf_counter() - start


def ours(gt_dir: Path, pred_dir: Path, names, workers=None):
    """Seconds for :func:`confusion_from_dirs` (all checks, process pool), and its confusion matrix."""
    from lip_toolkit.parsing.evaluation import confusion_from_dirs
    start = time.perf_counter()
    conf, _ = confusion_from_dirs(gt_dir, pred_dir, ids=names, workers=workers)
    return time.perf_counter() - start, conf


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pairs', type=int, default=10_000, help='PNG pairs (default 10,000, LIP val size)')
    parser.add_argument('--data', type=Path, help='folder to write (or reuse) the PNGs; default: a temp folder')
    parser.add_argument('--repeat', type=int, default=3, help='timed rounds; the best of each figure is kept')
    parser.add_argument('--workers', type=int, default=None, help='scorer processes (default: all CPUs)')
    parser.add_argument('--plain-loop', action='store_true', help='also time a one-process bincount loop')
    args = parser.parse_args(argv)

    from lip_toolkit.core.progress import set_quiet
    from lip_toolkit.core.pools import default_workers
    set_quiet(True)
    with tempfile.TemporaryDirectory(prefix='bench_miou_') as tmp:
        directory = args.data or Path(tmp)
        names = make_pairs(directory, args.pairs)
        gt_dir, pred_dir = directory / 'gt', directory / 'pred'
        decode_only(gt_dir, pred_dir, names[:200])  # warm the page cache and the libraries
        decode_times, our_times, loop_times, conf = [], [], [], None
        for _ in range(max(1, args.repeat)):    # interleaved, so a busy moment hits both figures alike
            decode_times.append(decode_only(gt_dir, pred_dir, names))
            seconds, conf = ours(gt_dir, pred_dir, names, args.workers)
            our_times.append(seconds)
            if args.plain_loop:
                loop_times.append(plain_loop(gt_dir, pred_dir, names))
    decode_s, our_s = min(decode_times), min(our_times)
    ratio = our_s / decode_s
    workers = args.workers or default_workers()
    print(f'pairs: {len(names)} (~300x200 PNG label maps, half the predictions paletted); '
          f'CPUs used: {workers}; best of {len(decode_times)} rounds')
    print(f'one-process decode only : {decode_s:7.2f} s')
    if loop_times:
        print(f'plain decode+bincount   : {min(loop_times):7.2f} s  (one process, for reference)')
    print(f'lip-toolkit scorer      : {our_s:7.2f} s  ({workers} processes, all checks)')
    verdict = 'meets' if ratio <= TARGET_RATIO else 'MISSES'
    print(f'ratio scorer/decode     : {ratio:7.3f}  ({verdict} the <= {TARGET_RATIO} target); '
          f'pixels scored: {int(conf.sum())}')
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == '__main__':
    sys.exit(main())
