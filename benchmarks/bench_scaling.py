"""How offline evaluation time grows with the work: pose and parsing scoring at N and 10N images.

* pose: :func:`lip_toolkit.pose.evaluation.evaluate_pose_files` (read both CSVs, match rows by name, score
  PCKh) on the first N rows of the real LIP val CSV (a synthetic CSV where it is absent) and on 10N rows, the
  predictions being the ground truth with noise, shuffled;
* the command itself: ``lip-toolkit evaluate pose`` on the 10,000-row val CSV scored against itself, end to end
  in a fresh process, wall and CPU seconds (target < 1.5 s, issue 10), and which heavy libraries that process
  imported (none);
* parsing: :func:`lip_toolkit.parsing.evaluation.evaluate_parsing_dirs` (decode, check and count every
  ground-truth / prediction PNG pair, all CPUs) on N and 10N LIP-sized pairs written by ``bench_miou.py``.

The whole call is timed (wall clock, the best of ``--rounds``); ``10N/N`` near 10 means time grows linearly
with the images, with no fixed cost hiding in N and nothing super-linear in 10N. Ensemble memory at N and 10N is
``bench_ensemble.py``'s (``run_all.py`` collects both).

Run:
    python benchmarks/bench_scaling.py                  # pose N=1000, parsing N=200
    python benchmarks/bench_scaling.py --quick          # seconds, for the smoke test
"""
import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CLI_TARGET_S = 1.5


def _load_sibling(name: str):
    """Import another benchmark script as a module (registered, so a process pool can pickle its functions)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def best_of(rounds: int, function, *args) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def pose_csvs(folder: Path, rows: int, seed: int = 0):
    """(ground truth, prediction) CSVs of ``rows`` rows: the real val CSV's first rows, repeated if needed."""
    from lip_toolkit.pose.lip_csv import read_lip_gt_csv, write_lip_pred_csv
    pckh = _load_sibling('bench_pckh')
    source = pckh.default_gt() or pckh.synthetic_gt(folder / 'synthetic_gt.csv', rows=max(rows, 100))
    lines = [line for line in source.read_text().splitlines() if line.strip()]
    picked = []
    for index in range(rows):  # repeat with new names when more rows are asked for than the file has
        name, _, body = lines[index % len(lines)].partition(',')
        round_ = index // len(lines)
        picked.append(f'{name[:-4]}_{round_}.jpg,{body}' if round_ else f'{name},{body}')
    gt_csv = folder / f'gt_{rows}.csv'
    gt_csv.write_text('\n'.join(picked) + '\n')
    names, gt = read_lip_gt_csv(gt_csv)
    rng = np.random.default_rng(seed)
    pred = np.clip(np.round(np.nan_to_num(gt[..., :2], nan=100.0) + rng.normal(0, 8, gt[..., :2].shape)), 0, None)
    order = rng.permutation(len(names))
    pred_csv = write_lip_pred_csv(folder / f'pred_{rows}.csv', [names[i] for i in order], pred[order])
    return gt_csv, pred_csv


def scale_pose(n: int, rounds: int, folder: Path) -> dict:
    from lip_toolkit.pose.evaluation import evaluate_pose_files
    seconds = {}
    for count in (n, 10 * n):
        gt_csv, pred_csv = pose_csvs(folder, count)
        evaluate_pose_files(gt_csv, pred_csv)  # warm the page cache
        seconds[count] = best_of(rounds, evaluate_pose_files, gt_csv, pred_csv)
    return seconds


def scale_parsing(n: int, rounds: int, folder: Path) -> dict:
    from lip_toolkit.parsing.evaluation import evaluate_parsing_dirs
    miou = _load_sibling('bench_miou')
    seconds = {}
    for count in (n, 10 * n):
        directory = folder / f'pairs_{count}'
        miou.make_pairs(directory, count)
        evaluate_parsing_dirs(directory / 'gt', directory / 'pred')
        seconds[count] = best_of(rounds, evaluate_parsing_dirs, directory / 'gt', directory / 'pred')
    return seconds


def cli_end_to_end(rounds: int, folder: Path):
    """Wall seconds of ``lip-toolkit evaluate pose`` on the 10,000-row val CSV scored against itself, in a
    fresh process (interpreter start and imports included), and whether that process imported torch."""
    import subprocess
    pckh = _load_sibling('bench_pckh')
    csv = pckh.default_gt() or pckh.synthetic_gt(folder / 'synthetic_10000.csv', rows=10000)
    probe = ('import runpy, sys; sys.argv = ["lip-toolkit", "evaluate", "pose", "--gt", sys.argv[1], "--pred", '
             'sys.argv[1]]\ntry:\n    runpy.run_module("lip_toolkit", run_name="__main__")\nexcept SystemExit:\n'
             '    pass\nprint("heavy imports:", sorted(m for m in ("torch", "mmpose", "mmseg", "mmengine", "cv2") '
             'if m in sys.modules))')
    import resource
    times, cpu_times, output = [], [], ''
    for _ in range(max(rounds, 3)):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, '-c', probe, str(csv)], capture_output=True, text=True,
                              cwd=REPO, check=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        output = done.stdout
    heavy = output.strip().splitlines()[-1]
    return csv, min(times), min(cpu_times), heavy


def report(track: str, what: str, seconds: dict) -> float:
    (small, t_small), (large, t_large) = sorted(seconds.items())
    ratio = t_large / t_small
    for count, value in ((small, t_small), (large, t_large)):
        print(f'{track:<8} {what:<34} {count:6d} images: {value:7.3f} s  ({1000 * value / count:6.3f} ms/image)')
    print(f'ratio {track} evaluation time 10N/N {ratio:5.2f}  (10 = linear)', flush=True)
    return ratio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pose-n', type=int, default=1000, help='N rows for pose (10N are scored too)')
    parser.add_argument('--parsing-n', type=int, default=200, help='N PNG pairs for parsing')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--only', choices=['pose', 'parsing'])
    parser.add_argument('--quick', action='store_true', help='tiny sizes, one round (smoke test)')
    args = parser.parse_args(argv)
    if args.quick:
        args.pose_n, args.parsing_n, args.rounds = 100, 8, 1

    from lip_toolkit.core.progress import set_quiet
    from lip_toolkit.core.pools import default_workers
    set_quiet(True)
    print(f'wall clock, best of {args.rounds}; CPUs {os.cpu_count()} (parsing scorer processes '
          f'{default_workers()}), load average {os.getloadavg()[0]:.1f}', flush=True)
    with tempfile.TemporaryDirectory(prefix='bench_scaling_') as tmp:
        if args.only in (None, 'pose'):
            csv, seconds, cpu_seconds, heavy = cli_end_to_end(args.rounds, Path(tmp))
            verdict = 'meets' if seconds < CLI_TARGET_S else 'MISSES'
            print(f'command  lip-toolkit evaluate pose --gt {csv.name} --pred {csv.name} (10,000 rows, fresh '
                  f'process, best of 3): {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU ({verdict} the < '
                  f'{CLI_TARGET_S} s target); {heavy}', flush=True)
        if args.only in (None, 'pose'):
            report('pose', 'evaluate_pose_files (CSV -> PCKh)', scale_pose(args.pose_n, args.rounds, Path(tmp)))
        if args.only in (None, 'parsing'):
            report('parsing', 'evaluate_parsing_dirs (PNG -> mIoU)',
                   scale_parsing(args.parsing_n, args.rounds, Path(tmp)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
