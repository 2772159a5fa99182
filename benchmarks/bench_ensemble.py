"""Ensemble streaming: peak memory at N and 10N images, and ensemble time against the members run alone.

Issue 7 asks that the ensemble streams (peak memory does not grow with the number of images) and that its time
is close to the sum of the members' own inference. For each track this script

1. writes synthetic LIP with N val images and saves two fresh tiny members (the demo configs; member B at
   another input size, so its outputs are resampled onto A's grid);
2. runs the ensemble over those N images and over the same images repeated 10 times (10N images: the same
   largest picture, so only the count differs), each in a fresh process, and reads that
   process's peak resident memory (``ru_maxrss``) and the peak of Python/numpy allocations (``tracemalloc``,
   measured around the ensemble call only);
3. in one process, times ``evaluate`` of each member alone and the ensemble on the 10N images (after one
   warm-up run of each, so imports and first-call costs are left out).

Every run uses the same batch size (``evaluate``'s default, at most N): a batch is what is held at once, so
only the number of images differs between the two memory figures.

Run:
    python benchmarks/bench_ensemble.py                      # N=8 (8 and 80 images), both tracks
    python benchmarks/bench_ensemble.py --n 20 --track parsing

Prints the figures and the ratios; exits 1 when memory at 10N exceeds memory at N by more than 25 % or the
ensemble takes more than 1.25 x the members' summed time.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run from a checkout without installing: the package is one folder up.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MEMORY_TARGET = 1.25
TIME_TARGET = 1.25
PARSING = str(REPO / 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py')
POSE = str(REPO / 'configs/demo/pose_hrnet-tiny_lip-128x96.py')
OPTIONS = {
    'parsing': ({'model.test_cfg.input_size': [96, 96]}, {'model.test_cfg.input_size': [64, 48]}),
    'pose': ({}, {'model.head.decoder.input_size': [64, 96], 'model.head.decoder.heatmap_size': [16, 24],
                  'test_dataloader.dataset.pipeline.2.input_size': [64, 96]}),
}


def _prepare(work: Path, track: str, num_images: int) -> dict:
    """Synthetic LIP (``num_images`` val images) and two fresh member checkpoints; returns the spec dict."""
    import torch

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.synthetic import synthesize_lip
    if not (work / 'lip' / 'TrainVal_images').is_dir():
        synthesize_lip(work / 'lip', train=0, val=num_images, test=1, seed=0)  # val ids: <image>_<person>
    config = PARSING if track == 'parsing' else POSE
    if track == 'parsing':
        from lip_toolkit.parsing.inference import build_parsing_model as build
    else:
        from lip_toolkit.pose.inference import build_pose_model as build
    members = []
    for index, options in enumerate(OPTIONS[track]):
        checkpoint = work / f'{track}_{index}.pth'
        if not checkpoint.is_file():
            torch.manual_seed(index)
            model = build(load_config(config, options), device='cpu')
            torch.save({'state_dict': model.state_dict()}, checkpoint)
        members.append(dict(config=config, checkpoint=str(checkpoint), weight=1.0, cfg_options=options,
                            name=f'member {"AB"[index]}'))
    return dict(track=track, flip=True, members=members)


def _repeated_tree(work: Path, copies: int) -> Path:
    """A LIP tree holding every val image of ``work/lip`` ``copies`` times under new ids (links, no copies).

    Repeating the same images keeps the largest image (hence the largest batch) the same at N and 10N, so any
    growth of the peak comes from the number of images, not from meeting a bigger picture.
    """
    root = work / f'lip_x{copies}'
    if root.is_dir():
        return root
    source = work / 'lip'
    ids = (source / 'TrainVal_images' / 'val_id.txt').read_text().split()
    images = root / 'TrainVal_images' / 'val_images'
    labels = root / 'TrainVal_parsing_annotations' / 'val_segmentations'
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    (root / 'TrainVal_pose_annotations').mkdir(parents=True)
    gt_rows = {row.split(',')[0][:-4]: row.split(',', 1)[1] for row in
               (source / 'TrainVal_pose_annotations' / 'lip_val_set.csv').read_text().splitlines()}
    new_ids, rows = [], []
    for copy in range(copies):
        for item in ids:
            image_id, person = item.split('_')
            new = f'{image_id}{copy:03d}_{person}'
            os.symlink(source / 'TrainVal_images' / 'val_images' / f'{item}.jpg', images / f'{new}.jpg')
            os.symlink(source / 'TrainVal_parsing_annotations' / 'val_segmentations' / f'{item}.png',
                       labels / f'{new}.png')
            new_ids.append(new)
            rows.append(f'{new}.jpg,{gt_rows[item]}')
    (root / 'TrainVal_images' / 'val_id.txt').write_text(''.join(f'{i}\n' for i in new_ids))
    (root / 'TrainVal_pose_annotations' / 'lip_val_set.csv').write_text(''.join(r + '\n' for r in rows))
    return root


def _measure_memory(spec_path: Path, data_root: Path, out: Path, batch_size: int) -> dict:
    """Run the ensemble in a fresh process; return its peak RSS and the tracemalloc peak of the call."""
    code = f'''
import json, resource, sys, tracemalloc, warnings
warnings.filterwarnings('ignore')
sys.path.insert(0, {str(REPO)!r})
import torch
torch.set_num_threads(1)
from lip_toolkit.core.progress import set_quiet
from lip_toolkit.ensemble import run_ensemble
from lip_toolkit.ensemble_config import load_ensemble
set_quiet(True)
spec = load_ensemble({str(spec_path)!r})
tracemalloc.start()
result = run_ensemble(spec, data_root={str(data_root)!r}, out={str(out)!r}, device='cpu', batch_size={batch_size})
_, peak = tracemalloc.get_traced_memory()
print(json.dumps(dict(rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      traced_mb=peak / 2 ** 20, images=result['num_images'])))
'''
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _measure_time(spec: dict, data_root: Path, out_dir: Path, batch_size: int) -> dict:
    """Seconds: each member through its own ``evaluate``, and the ensemble; after one warm-up of each."""
    from lip_toolkit.ensemble import run_ensemble
    from lip_toolkit.ensemble_config import load_ensemble
    track = spec['track']
    if track == 'parsing':
        from lip_toolkit.parsing.inference import evaluate_checkpoint

        def member_alone(member):
            return evaluate_checkpoint(member['config'], member['checkpoint'], flip=True, data_root=data_root,
                                       device='cpu', cfg_options=member['cfg_options'],
                                       out_dir=out_dir / 'member_pngs', batch_size=batch_size)
        ensemble_out = out_dir / 'ensemble_pngs'
    else:
        from lip_toolkit.pose.inference import evaluate_checkpoint

        def member_alone(member):
            return evaluate_checkpoint(member['config'], member['checkpoint'], flip=True, data_root=data_root,
                                       device='cpu', cfg_options=member['cfg_options'],
                                       out=out_dir / 'member.csv', batch_size=batch_size)
        ensemble_out = out_dir / 'ensemble.csv'
    ensemble_spec = load_ensemble(members=spec['members'], track=track, flip=True)
    timings = {}
    for name, run in [(m['name'], lambda m=m: member_alone(m)) for m in spec['members']] + [
            ('ensemble', lambda: run_ensemble(ensemble_spec, data_root=data_root, out=ensemble_out,
                                              device='cpu', batch_size=batch_size))]:
        run()  # warm-up: model build and first-call costs
        start = time.perf_counter()
        run()
        timings[name] = time.perf_counter() - start
    return timings


def bench_track(track: str, n: int, work: Path) -> bool:
    import torch
    torch.set_num_threads(1)
    spec = _prepare(work, track, n)
    spec_path = work / f'{track}_ensemble.json'
    spec_path.write_text(json.dumps(spec))
    small, large = _repeated_tree(work, 1), _repeated_tree(work, 10)
    out = work / (f'{track}_out' + ('.csv' if track == 'pose' else ''))
    # The batch (what is held at once) must be the same at N and 10N: evaluate's default, at most N.
    from lip_toolkit.ensemble import DEFAULT_BATCH_SIZE
    batch_size = min(DEFAULT_BATCH_SIZE[track], n)
    memory = {count: _measure_memory(spec_path, root, out, batch_size)
              for count, root in ((n, small), (10 * n, large))}
    timings = _measure_time(spec, large, work, batch_size)
    members_sum = sum(v for k, v in timings.items() if k != 'ensemble')
    rss_ratio = memory[10 * n]['rss_mb'] / memory[n]['rss_mb']
    traced_ratio = memory[10 * n]['traced_mb'] / memory[n]['traced_mb']
    time_ratio = timings['ensemble'] / members_sum
    print(f'\n{track}: 2 tiny members (flip test; member B at another input size), batches of {batch_size}')
    for count in (n, 10 * n):
        print(f'  peak memory, {count:4d} images: RSS {memory[count]["rss_mb"]:8.1f} MiB   '
              f'Python/numpy (tracemalloc) {memory[count]["traced_mb"]:7.2f} MiB')
    print(f'  10N / N: RSS x{rss_ratio:.2f}, tracemalloc x{traced_ratio:.2f} (target <= x{MEMORY_TARGET})')
    for name, seconds in timings.items():
        print(f'  time, {10 * n} images, {name + ":":10s} {seconds:7.2f} s')
    print(f'  ensemble / sum of members alone: {time_ratio:.2f} (target <= {TIME_TARGET})')
    return rss_ratio <= MEMORY_TARGET and traced_ratio <= MEMORY_TARGET and time_ratio <= TIME_TARGET


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=8, help='N: images of the small run (the large one has 10N)')
    parser.add_argument('--track', choices=['pose', 'parsing', 'both'], default='both')
    parser.add_argument('--work', type=Path, default=None, help='working folder (default: a temporary one)')
    args = parser.parse_args(argv)
    import warnings
    warnings.filterwarnings('ignore')
    from lip_toolkit.core.progress import set_quiet
    set_quiet(True)
    tracks = ['pose', 'parsing'] if args.track == 'both' else [args.track]
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        ok = all([bench_track(track, args.n, work) for track in tracks])
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
