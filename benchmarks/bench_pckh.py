"""Time LIP PCKh scoring of a full val-size CSV: reading both files, matching rows by name, scoring.

Usage:
    python benchmarks/bench_pckh.py [--gt PATH/lip_val_set.csv] [--repeat 5] [--save-pred noisy_pred.csv]

Without ``--gt`` it uses the real val CSV in ../shared/real when present, else a synthetic 10,000-row CSV.
The predictions are the ground truth with noise, shuffled, written as a LIP submission CSV. Prints the best
and median of ``--repeat`` runs for: parse GT, parse predictions, score (vectorised), the whole
``evaluate_pose_files`` call, and the plain-loop reference logic for comparison. ``--save-pred`` keeps the
noisy prediction CSV (seed 0), e.g. to try ``lip-toolkit evaluate pose`` on it.
"""
import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lip_toolkit.pose.evaluation import evaluate_pose_files  # noqa: E402
from lip_toolkit.pose.lip_csv import read_lip_gt_csv, read_lip_pred_csv, write_lip_pred_csv  # noqa: E402
from lip_toolkit.pose.metrics import compute_lip_pckh  # noqa: E402


def default_gt() -> Path:
    for candidate in (REPO.parent / 'shared' / 'real' / 'lip_val_set.csv', Path('/work/shared/real/lip_val_set.csv')):
        if candidate.is_file():
            return candidate
    return None


def synthetic_gt(path: Path, rows: int = 10000, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = []
    for n in range(rows):
        joints = rng.integers(1, 400, (16, 2)).astype(object)
        flags = rng.integers(0, 2, 16)
        cells = [f'{x},{y},{v}' if rng.random() > 0.1 else 'nan,nan,nan' for (x, y), v in zip(joints, flags)]
        lines.append(f'{n}_{n}.jpg,' + ','.join(cells))
    path.write_text('\n'.join(lines) + '\n')
    return path


def loop_pckh(gt, pred):
    """The published logic, one joint at a time (for the speed comparison only)."""
    hits, counts = [0] * 16, [0] * 16
    for g, p in zip(gt.tolist(), pred.tolist()):
        if any(math.isnan(v) for v in g[8][:2] + g[9][:2]):
            continue
        head = math.hypot(g[9][0] - g[8][0], g[9][1] - g[8][1])
        if head == 0:
            continue
        for j in range(16):
            if math.isnan(g[j][0]) or math.isnan(g[j][1]):
                continue
            px = 1.0 if math.isnan(p[j][0]) or p[j][0] < 0 else p[j][0]
            py = 1.0 if math.isnan(p[j][1]) or p[j][1] < 0 else p[j][1]
            counts[j] += 1
            hits[j] += math.hypot(px - g[j][0], py - g[j][1]) / head <= 0.5
    return [100.0 * h / c if c else float('nan') for h, c in zip(hits, counts)]


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--gt', type=Path, default=None)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--save-pred', type=Path, default=None, help='also write the noisy predictions here')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        gt_csv = args.gt or default_gt() or synthetic_gt(Path(tmp) / 'gt.csv')
        names, gt = read_lip_gt_csv(gt_csv)
        rng = np.random.default_rng(0)
        pred = np.clip(np.round(np.nan_to_num(gt[..., :2], nan=100.0) + rng.normal(0, 8, gt[..., :2].shape)), 0,
                       None)
        order = rng.permutation(len(names))
        pred_csv = write_lip_pred_csv(Path(tmp) / 'pred.csv', [names[i] for i in order], pred[order])
        if args.save_pred:
            write_lip_pred_csv(args.save_pred, [names[i] for i in order], pred[order])

        print(f'ground truth: {gt_csv} ({len(names)} rows); best / median of {args.repeat} runs')
        rows = [
            ('read GT CSV', lambda: read_lip_gt_csv(gt_csv)),
            ('read prediction CSV', lambda: read_lip_pred_csv(pred_csv)),
            ('score (compute_lip_pckh)', lambda: compute_lip_pckh(gt, pred)),
            ('evaluate_pose_files (all)', lambda: evaluate_pose_files(gt_csv, pred_csv)),
            ('plain-loop reference score', lambda: loop_pckh(gt, pred)),
        ]
        results = {}
        for label, function in rows:
            best, median = timed(function, args.repeat)
            results[label] = best
            print(f'  {label:<28} {best * 1000:8.1f} ms  {median * 1000:8.1f} ms')
        speedup = results['plain-loop reference score'] / results['score (compute_lip_pckh)']
        print(f'  vectorised scoring is {speedup:.0f}x the plain loop; '
              f'Mean PCKh of this noisy prediction: {compute_lip_pckh(gt, pred)["Mean"]:.2f}')


if __name__ == '__main__':
    main()
