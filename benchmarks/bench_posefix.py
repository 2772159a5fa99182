"""PoseFix refinement measured: PCKh of the coarse input against PCKh of the refined output, on held-out data.

For each seed this script

1. writes a synthetic LIP release (``--train`` images to learn from, ``--val`` held-out images to score on);
2. trains a weak pose model (the demo's tiny HRNet, ``--weak-epochs``) and the tiny PoseFix refiner
   (``configs/demo/pose_posefix-tiny_lip-128x96.py``, ``--posefix-epochs``, as the demo trains it) on the train
   images only;
3. refines, on the val images, (a) the weak model's predictions and (b) poses drawn from PoseFix's own error model
   (:func:`lip_toolkit.pose.models.coarse_pose.synthesize_coarse_pose`, the reference's rates), ``--draws`` poses
   per image. Single-person LIP crops hold no second person, so for swaps each draw places a neighbour: the
   person's own ground truth moved sideways by a third of the image width;
4. scores the input and the refined joints: LIP PCKh@0.5 (the challenge's Mean) for the weak model, and per error
   kind the share of joints of that kind within half a head of the truth, before and after refinement;
5. gives the refiner the ground truth itself, then the ground truth with left and right swapped: the PCKh it keeps,
   and how far its left/right joints move when their inputs trade places (a refiner that reads which joint is
   which moves them by the distance between the pair).

The table gives the mean and the standard deviation over seeds. The slow test
``tests/pose/test_refinement.py`` runs :func:`measure_seed` for one seed and asserts refined > coarse per kind.

Run:
    python benchmarks/bench_posefix.py                        # seeds 0 1 2, 200 train / 40 val, demo budget
    python benchmarks/bench_posefix.py --seeds 0 --draws 2    # one seed
    python benchmarks/bench_posefix.py --quick                # 48 train / 12 val, 2 + 2 epochs: runs, not a score

Exits 1 when, averaged over seeds, the refined score is not above the coarse one for the weak model or for an
error kind (``--quick`` only reports).
"""
import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

# Run from a checkout without installing: the package is one folder up.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HRNET = REPO / 'configs/demo/pose_hrnet-tiny_lip-128x96.py'
POSEFIX = REPO / 'configs/demo/pose_posefix-tiny_lip-128x96.py'
KINDS = ('jitter', 'miss', 'inversion', 'swap', 'good')
#: LIP's left/right pairs (lip-facts.md section 8): joint j's mirror joint.
FLIP = [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]
PAIRED = [j for j in range(16) if FLIP[j] != j]
#: A neighbour for swap errors stands this share of the image width to the side.
NEIGHBOUR_SHIFT = 1 / 3


def _epochs(epochs: int, seed: int) -> dict:
    """Train ``epochs`` epochs without validation, the demo's way, seeded."""
    return {'train_cfg.max_epochs': epochs, 'default_hooks.checkpoint.interval': epochs, 'val_cfg': None,
            'val_dataloader': None, 'val_evaluator': None, 'randomness.seed': seed}


def _train(config, data_root, work_dir, options) -> str:
    from lip_toolkit.core.runner import train
    train(config, work_dir=work_dir, data_root=data_root, cfg_options=options)
    return (Path(work_dir) / 'last_checkpoint').read_text().strip()


def _predict(predictor, images, coarse=None, batch=8):
    return np.concatenate([predictor.predict(images[s:s + batch], coarse_keypoints=None if coarse is None
                                             else coarse[s:s + batch]).keypoints
                           for s in range(0, len(images), batch)])


def error_model_poses(gt: np.ndarray, sizes, draws: int, seed: int):
    """``draws`` coarse poses per image from PoseFix's error model, in original pixels (nan = not given).

    Args:
        gt: (N, 16, >=2) ground truth, nan where unlabelled.
        sizes: (width, height) per image; the person box is the whole image, its area the OKS area.
        draws: poses per image.
        seed: random seed.

    Returns:
        tuple: coarse (draws * N, 16, 2), kinds (draws * N, 16) of str ('' where no joint was drawn), and the
        image index of each pose.
    """
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    from lip_toolkit.pose.datasets import LIP_POSE_METAINFO_FILE
    from lip_toolkit.pose.models.coarse_pose import synthesize_coarse_pose

    info = parse_pose_metainfo(dict(from_file=LIP_POSE_METAINFO_FILE))
    rng = np.random.default_rng(seed)
    poses, kinds, index = [], [], []
    for _ in range(draws):
        for i, (width, height) in enumerate(sizes):
            keypoints = gt[i, :, :2]
            labelled = np.isfinite(keypoints).all(axis=1)
            shift = np.array([rng.choice([-1.0, 1.0]) * NEIGHBOUR_SHIFT * width, 0.0])
            coarse, given, joint_kinds = synthesize_coarse_pose(
                np.nan_to_num(keypoints), labelled, float(width * height), info['sigmas'], info['flip_indices'], rng,
                nearby_keypoints=np.nan_to_num(keypoints + shift)[None], nearby_visible=labelled[None])
            coarse[given == 0] = np.nan
            poses.append(coarse)
            kinds.append([kind or '' for kind in joint_kinds])
            index.append(i)
    return np.stack(poses), np.array(kinds), np.array(index)


def hits(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(N, 16) True where the prediction lies within half a head (neck to head top) of a labelled joint."""
    head = np.linalg.norm(gt[:, 9, :2] - gt[:, 8, :2], axis=-1)
    distance = np.linalg.norm(pred - gt[..., :2], axis=-1)
    with np.errstate(invalid='ignore'):
        return distance <= 0.5 * head[:, None]


def measure_seed(seed: int, train: int = 200, val: int = 40, weak_epochs: int = 4, posefix_epochs: int = 20,
                 draws: int = 4, workdir=None, posefix_options=None) -> dict:
    """Train the weak model and the refiner for one seed; score coarse and refined inputs on held-out images.

    Returns:
        ``{'seed', 'weak': {'coarse', 'refined'} (LIP PCKh Mean), 'kinds': {kind: {'coarse', 'refined',
        'joints'}} (% of joints within half a head), 'seconds'}``.
    """
    import torch

    from lip_toolkit.core.image_io import read_image_bgr
    from lip_toolkit.core.progress import set_quiet
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.pose.inference import PoseHeatmapPredictor, split_items
    from lip_toolkit.pose.metrics import compute_lip_pckh
    from lip_toolkit.synthetic import synthesize_lip

    set_quiet(True)
    torch.set_num_threads(1)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f'bench_posefix_{seed}_') as tmp:
        root = Path(workdir or tmp) / f'seed{seed}'
        data = root / 'data'
        synthesize_lip(data, train=train, val=val, test=1, seed=seed, overwrite=True, workers=1)
        weak_ckpt = _train(HRNET, data, root / 'weak', _epochs(weak_epochs, seed))
        posefix_ckpt = _train(POSEFIX, data, root / 'posefix',
                              dict(_epochs(posefix_epochs, seed), **(posefix_options or {})))

        items = split_items(load_config(HRNET), 'val', data)
        gt = np.stack([item['gt'] for item in items])
        images = [read_image_bgr(item['path']) for item in items]
        weak = PoseHeatmapPredictor.from_config(HRNET, weak_ckpt, device='cpu')
        refiner = PoseHeatmapPredictor.from_config(load_config(POSEFIX, posefix_options), posefix_ckpt, device='cpu')

        def pckh(coords):  # as `evaluate` scores a CSV: integer pixels, clipped at 0
            return compute_lip_pckh(gt, np.round(np.clip(coords, 0, None)))['Mean']

        coarse = _predict(weak, images)
        result = dict(seed=seed, weak=dict(coarse=pckh(coarse), refined=pckh(_predict(refiner, images, coarse))))
        # Does the refiner read which joint is which? Given the truth, and the truth with left and right swapped:
        # a refiner that follows its input moves each paired joint by the left-right distance.
        truth = gt[..., :2]
        given_truth = _predict(refiner, images, truth)
        given_swapped = _predict(refiner, images, truth[:, FLIP])
        head = np.linalg.norm(gt[:, 9, :2] - gt[:, 8, :2], axis=-1)[:, None]
        moved = np.linalg.norm(given_swapped - given_truth, axis=-1)[:, PAIRED] / head
        apart = np.linalg.norm(truth[:, PAIRED] - truth[:, FLIP][:, PAIRED], axis=-1) / head
        result['truth'] = dict(coarse=100.0, refined=pckh(given_truth),
                               swap_moves=float(np.nanmedian(moved)), pairs_apart=float(np.nanmedian(apart)))

        sizes = [(image.shape[1], image.shape[0]) for image in images]
        poses, kinds, index = error_model_poses(gt, sizes, draws, seed)
        refined = np.concatenate([_predict(refiner, images, poses[d * len(images):(d + 1) * len(images)])
                                  for d in range(draws)])
        before, after = hits(gt[index], poses), hits(gt[index], refined)
        labelled = np.isfinite(gt[index, :, 0])
        result['kinds'] = {}
        for kind in KINDS:
            mask = (kinds == kind) & labelled
            count = int(mask.sum())
            result['kinds'][kind] = dict(joints=count, coarse=100.0 * before[mask].mean() if count else float('nan'),
                                         refined=100.0 * after[mask].mean() if count else float('nan'))
    result['seconds'] = time.perf_counter() - started
    return result


def _measure(kwargs):
    return measure_seed(**kwargs)


def summarise(results) -> list:
    """Table lines: per row, coarse and refined mean +- std over seeds, and the gain."""
    rows = [('weak model (PCKh)', [r['weak'] for r in results])]
    rows += [(f'error model: {kind}', [r['kinds'][kind] for r in results]) for kind in KINDS]
    if all('truth' in r for r in results):
        rows.append(('ground truth (PCKh)', [r['truth'] for r in results]))
    lines = [f'{"input":<26} {"joints":>7} {"coarse":>15} {"refined":>15} {"gain":>15}']
    verdicts = []
    for name, cells in rows:
        coarse = np.array([c['coarse'] for c in cells])
        refined = np.array([c['refined'] for c in cells])
        gain = refined - coarse
        joints = sum(c.get('joints', 0) for c in cells)
        lines.append(f'{name:<26} {joints or "":>7} {coarse.mean():7.2f} +- {coarse.std():5.2f} '
                     f'{refined.mean():7.2f} +- {refined.std():5.2f} {gain.mean():+7.2f} +- {gain.std():5.2f}')
        if name not in ('error model: good', 'ground truth (PCKh)'):  # shown, not judged: no room to gain
            verdicts.append((name, gain.mean()))
    truth = [r['truth'] for r in results if 'truth' in r]
    if truth:
        moves = np.array([t['swap_moves'] for t in truth])
        apart = np.array([t['pairs_apart'] for t in truth])
        lines.append(f'given the truth with left and right swapped, paired joints move {moves.mean():.2f} +- '
                     f'{moves.std():.2f} head (median; the pairs are {apart.mean():.2f} head apart)')
    return lines, verdicts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--train', type=int, default=200, help='training images (the demo: 200)')
    parser.add_argument('--val', type=int, default=40, help='held-out images scored (the demo: 40)')
    parser.add_argument('--weak-epochs', type=int, default=4, help='epochs of the weak tiny HRNet')
    parser.add_argument('--posefix-epochs', type=int, default=20, help='epochs of the refiner (the demo: 20)')
    parser.add_argument('--draws', type=int, default=4, help='error-model poses per val image')
    parser.add_argument('--jobs', type=int, default=None, help='seeds run in parallel (default: one per seed)')
    parser.add_argument('--posefix-options', type=json.loads, default=None,
                        help='config overrides of the refiner, as JSON (to compare variants)')
    parser.add_argument('--json', type=Path, default=None, help='also write the per-seed results')
    parser.add_argument('--quick', action='store_true', help='tiny sizes (runs the code, measures nothing)')
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.train, args.val, args.weak_epochs, args.posefix_epochs, args.draws = [0], 48, 12, 2, 2, 1
    print(f'{len(args.seeds)} seed(s) {args.seeds}; {args.train} train / {args.val} held-out val images; weak tiny '
          f'HRNet {args.weak_epochs} epochs, tiny PoseFix {args.posefix_epochs} epochs; {args.draws} error-model '
          f'poses per image; CPUs {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}', flush=True)
    tasks = [dict(seed=seed, train=args.train, val=args.val, weak_epochs=args.weak_epochs,
                  posefix_epochs=args.posefix_epochs, draws=args.draws, posefix_options=args.posefix_options)
             for seed in args.seeds]
    jobs = args.jobs or len(tasks)
    if jobs == 1:
        results = [_measure(task) for task in tasks]
    else:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_measure, tasks))
    for result in results:
        print(f'seed {result["seed"]}: {result["seconds"]:.0f} s; weak model PCKh {result["weak"]["coarse"]:.2f} -> '
              f'{result["weak"]["refined"]:.2f}', flush=True)
    lines, verdicts = summarise(results)
    print('\n'.join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    failed = [name for name, gain in verdicts if not gain > 0]
    if failed and not args.quick:
        print(f'refined is not above coarse for: {", ".join(failed)}')
        return 1
    print('refined above coarse for every input' if not failed else f'(quick run) not above for {failed}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
