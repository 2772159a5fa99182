"""Self-correction (SCHP) under label noise on synthetic LIP: the same tiny model and budget with and without it.

The training labels are corrupted the way annotators err, the val labels stay clean:

* boundaries shifted: in each image every part is, with probability ``--p-boundary``, grown over its neighbours or
  shrunk (a fair coin; ``--boundary grow`` only grows) by 1 to ``--shift`` pixels, its neighbours losing or taking
  as much; the images and labels are first resized to ``--image-height`` pixels (96), about the training size, so
  the pixels are the model's;
* small parts dropped: every part smaller than ``--small-area`` pixels (gloves, sunglasses, shoes, socks...) is,
  with probability ``--p-drop``, given the label of the part that surrounds it most;
* left/right confused: with probability ``--p-swap`` an image has every left/right pair swapped (14/15 arms,
  16/17 legs, 18/19 shoes), as when a person seen from behind is labelled as if facing the camera.

For each seed both runs start from the same weights and see the same batches (same seed, same sampler); both are
scored on the clean val labels (LIP mIoU, MMSeg's validation loop at the training size). The model is
configs/parsing/schp/fcn_unet-tiny_75e_synthetic-64x64.py; its 75 epochs mirror SCHP's 150 at half scale
(self-correction from epoch 50, cycles of 5). Without self-correction the learning rate follows the config's poly
decay over all epochs; with it, as in SCHP's recipe, the poly decay ends at the start epoch (SCHP's cosine reaches
lr / 100 at epoch 100), where the first model is aggregated, and the cycles follow. The script prints the noise
actually drawn (how much of the noisy training labels agree with the clean ones), a table per seed, the mean and
spread of both arms and of the gain, and the gain per class; ``--min-gain`` makes it exit 1 when the mean gain is
below that, ``--clean`` adds the same training on clean labels, ``--ablation`` self-correction with hard labels,
``--diagnose`` how well each final model fits its training images and, inside each self-correction run, what
happens at every aggregation (:class:`SelfCorrectionProbe`).

Run (from the repository root; about 25 CPU-minutes at the default size, 40 with ``--clean``, parallel with
``--jobs``; docs/self_correction.md has the results):
    python benchmarks/bench_self_correction.py --jobs 2 --clean --diagnose
    python benchmarks/bench_self_correction.py --train 16 --val 8 --seeds 0 --epochs 2 --start-epoch 1 \
        --cycle-epochs 1                                                               # a smoke run
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from mmengine.hooks import Hook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONFIG = REPO / 'configs' / 'parsing' / 'schp' / 'fcn_unet-tiny_75e_synthetic-64x64.py'
LEFT_RIGHT = ((14, 15), (16, 17), (18, 19))
TRAIN_LABELS = 'TrainVal_parsing_annotations/train_segmentations'


def _disk(radius: int) -> np.ndarray:
    import cv2
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def shift_boundaries(label: np.ndarray, rng: np.random.Generator, prob: float, max_shift: int,
                     shrink: bool = False) -> np.ndarray:
    """Move each foreground part's boundary, with probability ``prob``, by 1..``max_shift`` pixels: grow the part
    over its neighbours, or, with ``shrink`` and a fair coin, shrink it (the pixels it loses take the label of the
    nearest pixel outside it). Growing alone moves every boundary outwards, a bias all the labels share."""
    import cv2
    out = label.copy()
    for cls in rng.permutation([c for c in np.unique(label) if 0 < c < 255]):
        if rng.random() >= prob:
            continue
        radius = int(rng.integers(1, max_shift + 1))
        part = label == cls
        if shrink and rng.random() < 0.5:
            kept = cv2.erode(part.astype(np.uint8), _disk(radius), borderType=cv2.BORDER_REPLICATE) > 0
            lost = part & ~kept
            out[lost] = nearest_outside_label(label, part)[lost]
        else:
            grown = cv2.dilate(part.astype(np.uint8), _disk(radius)) > 0
            out[grown & (label != 255)] = cls
    return out


def nearest_outside_label(label: np.ndarray, part: np.ndarray) -> np.ndarray:
    """``label`` with every pixel of the mask ``part`` given the label of the nearest pixel outside it (Euclidean
    distance; ties broken by scipy's scan order)."""
    from scipy.ndimage import distance_transform_edt
    _, (rows, cols) = distance_transform_edt(part, return_indices=True)
    return label[rows, cols]


def drop_small_parts(label: np.ndarray, rng: np.random.Generator, prob: float, small_area: int) -> np.ndarray:
    """Relabel each part smaller than ``small_area`` pixels, with probability ``prob``, as its main neighbour."""
    import cv2
    out = label.copy()
    for cls in [c for c in np.unique(label) if 0 < c < 255]:
        mask = label == cls
        if mask.sum() >= small_area or rng.random() >= prob:
            continue
        ring = (cv2.dilate(mask.astype(np.uint8), _disk(2)) > 0) & ~mask & (label != 255)
        neighbours = label[ring]
        out[mask] = np.bincount(neighbours).argmax() if neighbours.size else 0
    return out


def swap_left_right(label: np.ndarray) -> np.ndarray:
    out = label.copy()
    for left, right in LEFT_RIGHT:
        out[label == left], out[label == right] = right, left
    return out


def corrupt_label(label: np.ndarray, rng: np.random.Generator, p_boundary: float, shift: int, p_drop: float,
                  small_area: int, p_swap: float, shrink: bool = False) -> np.ndarray:
    """One noisy annotation of a clean label map (the three kinds of error above, in that order)."""
    noisy = shift_boundaries(label, rng, p_boundary, shift, shrink)
    noisy = drop_small_parts(noisy, rng, p_drop, small_area)
    if rng.random() < p_swap:
        noisy = swap_left_right(noisy)
    return noisy


def downscale_tree(full: Path, small: Path, height: int) -> None:
    """``small``: the train and val images and labels of ``full`` resized to ``height`` pixels high (area for
    images, nearest for labels), so that reading them costs little next to the tiny model's training step."""
    import cv2
    for folder in ('TrainVal_images/train_images', 'TrainVal_images/val_images', TRAIN_LABELS,
                   'TrainVal_parsing_annotations/val_segmentations'):
        (small / folder).mkdir(parents=True, exist_ok=True)
        is_label = 'parsing' in folder
        for path in sorted((full / folder).iterdir()):
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if is_label else cv2.IMREAD_COLOR)
            width = max(1, round(image.shape[1] * height / image.shape[0]))
            resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST if is_label
                                 else cv2.INTER_AREA)
            cv2.imwrite(str(small / folder / path.name), resized, [cv2.IMWRITE_JPEG_QUALITY, 95])
    for name in ('train_id.txt', 'val_id.txt'):
        (small / 'TrainVal_images' / name).write_bytes((full / 'TrainVal_images' / name).read_bytes())


def make_noisy_tree(clean: Path, noisy: Path, args) -> dict:
    """``noisy``: the clean tree with its training labels corrupted (everything else linked). Returns the
    agreement of the noisy training labels with the clean ones (pixel accuracy and LIP mIoU)."""
    from lip_toolkit.parsing.evaluation import confusion_matrix, miou_from_confusion
    import cv2
    for entry in ('TrainVal_images',):
        if (clean / entry).exists() and not (noisy / entry).exists():
            (noisy / entry).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(clean / entry, noisy / entry)
    val_labels = noisy / 'TrainVal_parsing_annotations' / 'val_segmentations'
    val_labels.parent.mkdir(parents=True, exist_ok=True)
    if not val_labels.exists():
        os.symlink(clean / 'TrainVal_parsing_annotations' / 'val_segmentations', val_labels)
    out_dir = noisy / TRAIN_LABELS
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.noise_seed)
    conf = np.zeros((20, 20), np.int64)
    for path in sorted((clean / TRAIN_LABELS).glob('*.png')):
        label = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        noisy_label = corrupt_label(label, rng, args.p_boundary, args.shift, args.p_drop, args.small_area,
                                    args.p_swap, shrink=args.boundary == 'both')
        cv2.imwrite(str(out_dir / path.name), noisy_label)
        conf += confusion_matrix(label, noisy_label)
    scores = miou_from_confusion(conf)
    wrong = conf.sum() - np.trace(conf)
    swapped = sum(conf[left, right] + conf[right, left] for left, right in LEFT_RIGHT)
    kinds = dict(background_as_part=conf[0, 1:].sum(), part_as_background=conf[1:, 0].sum(), left_right=swapped)
    kinds['part_as_other_part'] = wrong - sum(kinds.values())
    return dict(pixel_acc=scores['pixel_acc'], mIoU=scores['mIoU'],
                wrong=({name: 100.0 * float(count) / max(wrong, 1) for name, count in kinds.items()}))


class SelfCorrectionProbe(Hook):
    """``--diagnose`` inside a self-correction run, at each aggregation: the model as trained and the aggregated
    model (after its BatchNorm re-estimation) scored on the clean val labels, and the labels the next cycle trains
    on (the argmax of the refined soft labels of the noisy training labels, on the whole training images) against
    the clean and the noisy ones: how many of the wrong noisy pixels they correct and how many right ones they
    break. Every model is run through the toolkit's predictor (``lip-toolkit evaluate``'s path, no flip)."""

    priority = 'ABOVE_NORMAL'  # the trained model is scored before SelfCorrectionHook (NORMAL) replaces it

    def __init__(self, config: Path, clean: Path, noisy: Path):
        import cv2
        from lip_toolkit.core.runner import load_config
        from lip_toolkit.parsing.inference import config_input_size, split_items
        cfg = load_config(config)
        self.input_size, self.keep_ratio = config_input_size(cfg)

        def read(items, label_dir=None):
            return [(cv2.imread(item['img_path'], cv2.IMREAD_COLOR),
                     cv2.imread(str(label_dir / Path(item['seg_map_path']).name) if label_dir else
                                item['seg_map_path'], cv2.IMREAD_GRAYSCALE)) for item in items]
        train_items = split_items(cfg, 'train', noisy)
        self.train = read(train_items)                                  # images, noisy labels
        self.train_clean = [label for _, label in read(train_items, clean / TRAIN_LABELS)]
        self.val = read(split_items(cfg, 'val', noisy))                 # clean val labels (linked)
        self.rows = []
        self.trained = None  # the parameters of the model as trained, at the last aggregation

    def _logits(self, model, images):
        from lip_toolkit.parsing.inference import ParsingLogitPredictor
        was_training = model.training
        predictor = ParsingLogitPredictor(model, input_size=self.input_size, keep_ratio=self.keep_ratio)
        logits = predictor([image for image, _ in images])
        model.train(was_training)
        return logits

    @staticmethod
    def _miou(pairs) -> float:
        from lip_toolkit.parsing.metrics import confusion_matrix, miou_from_confusion
        return float(miou_from_confusion(sum(confusion_matrix(gt, pred) for gt, pred in pairs))['mIoU'])

    def _score(self, model, label_weight=None, mixing='logits') -> dict:
        import torch
        from lip_toolkit.parsing.self_correction import refined_soft_labels
        val = self._miou((label, logits.argmax(0)) for (_, label), logits in zip(self.val, self._logits(model, self.val)))
        train_logits = self._logits(model, self.train)
        scores = dict(val=val, train=self._miou((clean, logits.argmax(0))
                                               for clean, logits in zip(self.train_clean, train_logits)))
        if label_weight is not None:
            refined = [refined_soft_labels(torch.from_numpy(logits)[None],
                                           torch.from_numpy(noisy.astype(np.int64))[None], label_weight,
                                           mixing=mixing)[0].argmax(0).numpy()
                       for (_, noisy), logits in zip(self.train, train_logits)]
            wrong = sum(int((noisy != clean).sum()) for (_, noisy), clean in zip(self.train, self.train_clean))
            right = sum(int((noisy == clean).sum()) for (_, noisy), clean in zip(self.train, self.train_clean))
            fixed = sum(int(((noisy != clean) & (new == clean)).sum())
                        for (_, noisy), clean, new in zip(self.train, self.train_clean, refined))
            broken = sum(int(((noisy == clean) & (new != clean)).sum())
                         for (_, noisy), clean, new in zip(self.train, self.train_clean, refined))
            scores.update(refined_vs_clean=self._miou(zip(self.train_clean, refined)),
                          refined_vs_noisy=self._miou((noisy, new) for (_, noisy), new in zip(self.train, refined)),
                          fixed=100.0 * fixed / max(wrong, 1), broken=100.0 * broken / max(right, 1))
        return scores

    @staticmethod
    def _hook(runner):
        from lip_toolkit.parsing.self_correction import SelfCorrectionHook
        return next(hook for hook in runner.hooks if isinstance(hook, SelfCorrectionHook))

    def after_train_epoch(self, runner) -> None:
        from mmengine.model import is_model_wrapper
        if self._hook(runner).aggregates_after(runner.epoch + 1):
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            self.trained = [param.detach().clone() for param in model.parameters()]
            self.rows.append(dict(epoch=runner.epoch + 1, last=self._score(model)))

    def _score_aggregated(self, runner) -> None:
        hook = self._hook(runner)
        if self.rows and 'averaged' not in self.rows[-1] and hook.cycles == len(self.rows):
            self.rows[-1]['averaged'] = self._score(hook.averaged, label_weight=1.0 / (hook.cycles + 1),
                                                   mixing=hook.label_mixing)
            # how far the aggregated weights are from the model as trained (0 at the first aggregation, a copy)
            squared = [float(((avg - last) ** 2).sum()) for avg, last in zip(hook.averaged.parameters(), self.trained)]
            norm = sum(float((last ** 2).sum()) for last in self.trained)
            self.rows[-1]['weight_gap'] = (sum(squared) / max(norm, 1e-12)) ** 0.5

    def before_train_epoch(self, runner) -> None:
        self._score_aggregated(runner)

    def after_train(self, runner) -> None:
        self._score_aggregated(runner)


def train_and_score(data_root: Path, work_dir: Path, seed: int, args, self_correction: bool,
                    refine_labels: bool = True, clean: Path = None) -> dict:
    """Train the tiny config on ``data_root`` and score it on the clean val labels; returns mIoU and seconds."""
    from lip_toolkit.core.runner import build_runner, load_config, merge_train_args
    options = {
        'train_cfg.max_epochs': args.epochs, 'train_cfg.val_interval': args.epochs + 1,
        'randomness.seed': seed, 'default_hooks.logger.interval': 1000,
        'default_hooks.checkpoint.interval': args.epochs + 1,
        'param_scheduler.0.end': args.epochs,
        'train_dataloader.batch_size': args.batch_size,
    }
    if self_correction:
        # SCHP's recipe: the schedule before the cycles anneals by start_epoch (its cosine reaches lr / 100 at
        # epoch 100), where the first model is aggregated; the cycles then restart from lr / 2
        options.update({'param_scheduler.0.end': args.start_epoch,
                        'default_hooks.self_correction.type': 'SelfCorrectionHook',
                        'default_hooks.self_correction.start_epoch': args.start_epoch,
                        'default_hooks.self_correction.cycle_epochs': args.cycle_epochs,
                        'default_hooks.self_correction.refine_labels': refine_labels,
                        'default_hooks.self_correction.soft_loss_scale': args.soft_loss_scale,
                        'default_hooks.self_correction.peak_ratio': args.peak_ratio,
                        'default_hooks.self_correction.label_mixing': args.label_mixing})
    cfg = load_config(args.config)
    merge_train_args(cfg, args.config, work_dir=work_dir, data_root=data_root, cfg_options=options)
    start = time.perf_counter()
    runner = build_runner(cfg)
    probe = None
    if self_correction and args.diagnose:
        probe = SelfCorrectionProbe(args.config, clean, data_root)
        runner.register_hook(probe, priority=probe.priority)
    runner.train()
    metrics = runner.val_loop.run()
    per_class = {key[len('IoU.'):]: float(value) for key, value in metrics.items() if key.startswith('IoU.')}
    return dict(mIoU=float(metrics['mIoU']), IoU=per_class, seconds=time.perf_counter() - start,
                aggregations=probe.rows if probe is not None else [])



def score_on_training_images(work_dir: Path, tree: Path, args) -> float:
    """mIoU of a run's final checkpoint on the training images against the training labels of ``tree``
    (``lip-toolkit evaluate``'s code path, no flip): what the model has learnt of the training set, to set
    against how good the (noisy) labels it was given are."""
    from lip_toolkit.evaluation import evaluate_model
    scores = evaluate_model(args.config, work_dir / f'epoch_{args.epochs}.pth', flip=False, split='train',
                            data_root=tree, device='cpu')
    return float(scores['mIoU'])


def _run_arm(task):
    """One training of the table (a process of its own under ``--jobs``): (seed, arm name) -> scores."""
    data_root, clean, work_dir, seed, args, arm = task
    import torch
    torch.set_num_threads(1)
    from lip_toolkit.core.progress import set_quiet
    set_quiet(True)
    corrected = arm in ('corrected', 'hard')
    return (seed, arm), train_and_score(data_root, work_dir, seed, args, corrected, refine_labels=arm != 'hard',
                                        clean=clean)


def _mean_sd(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main(argv=None) -> int:
    from lip_toolkit.parsing.self_correction import LABEL_MIXINGS
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', type=Path, default=Path('work_dirs/bench_self_correction'))
    parser.add_argument('--config', type=Path, default=CONFIG)
    parser.add_argument('--train', type=int, default=160)
    parser.add_argument('--val', type=int, default=40)
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument('--image-height', type=int, default=96, help='images and labels are resized to this')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=75)
    parser.add_argument('--start-epoch', type=int, default=50)
    parser.add_argument('--cycle-epochs', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--noise-seed', type=int, default=0)
    parser.add_argument('--p-boundary', type=float, default=0.5)
    parser.add_argument('--boundary', choices=('both', 'grow'), default='both',
                        help="boundary shifts grow or shrink a part ('both', no shared bias) or only grow it "
                             "('grow': the noise of the first two rounds in docs/self_correction.md)")
    parser.add_argument('--shift', type=int, default=2)
    parser.add_argument('--p-drop', type=float, default=0.5)
    parser.add_argument('--small-area', type=int, default=40)
    parser.add_argument('--p-swap', type=float, default=0.2)
    parser.add_argument('--soft-loss-scale', type=float, default=1.0,
                        help="SelfCorrectionHook's factor on the soft term (1: the hook's default; 0.05: SCHP's, "
                             "whose KL 'mean' divides by the 20 classes)")
    parser.add_argument('--label-mixing', choices=LABEL_MIXINGS, default='logits',
                        help="SelfCorrectionHook's label_mixing ('logits': SCHP's code)")
    parser.add_argument('--peak-ratio', type=float, default=0.5,
                        help="the cycles' learning rate at each restart, as a fraction of the initial one (SCHP: 0.5)")
    parser.add_argument('--clean', action='store_true', help='also train the baseline on the clean labels')
    parser.add_argument('--ablation', action='store_true',
                        help='also run self-correction without label refinement (cycles and aggregation alone)')
    parser.add_argument('--min-gain', type=float, default=None,
                        help='exit 1 when the mean mIoU gain (self-correction minus baseline) is below this')
    parser.add_argument('--jobs', type=int, default=1, help='trainings run in parallel processes')
    parser.add_argument('--diagnose', action='store_true',
                        help="also score each run's final model on its training images, against the clean and "
                             'the noisy labels')
    parser.add_argument('--json', type=Path, default=None, help='also write the results here')
    args = parser.parse_args(argv)

    import torch
    torch.set_num_threads(1)  # one thread is the fastest on shared cores (docs/parsing_models.md)
    from lip_toolkit.synthetic import synthesize_lip
    args.out.mkdir(parents=True, exist_ok=True)
    full = args.out / f'full_{args.train}_{args.val}_{args.data_seed}'
    if not (full / TRAIN_LABELS).is_dir():
        synthesize_lip(full, train=args.train, val=args.val, test=0, seed=args.data_seed, overwrite=True,
                       workers=1)
    clean = args.out / f'clean_{full.name}_h{args.image_height}'
    if not (clean / TRAIN_LABELS).is_dir():
        downscale_tree(full, clean, args.image_height)
    noisy = args.out / (f'noisy_{clean.name}_n{args.noise_seed}_{args.boundary}{args.p_boundary}_s{args.shift}'
                        f'_d{args.p_drop}_a{args.small_area}_w{args.p_swap}')
    agreement = make_noisy_tree(clean, noisy, args)
    print(f'synthetic LIP {args.train} train / {args.val} val (seed {args.data_seed}) at {args.image_height} pixels '
          f'high; noisy training labels agree with the clean ones on {agreement["pixel_acc"]:.1f} % of pixels, mIoU {agreement["mIoU"]:.1f}')
    print('the wrong pixels: ' + ', '.join(f'{name.replace("_", " ")} {share:.0f} %'
                                           for name, share in agreement['wrong'].items()))
    print(f'model {args.config.relative_to(REPO) if args.config.is_relative_to(REPO) else args.config}, '
          f'{args.epochs} epochs, batch {args.batch_size}; self-correction from epoch {args.start_epoch}, '
          f'cycles of {args.cycle_epochs} epochs; val mIoU against clean labels')
    arms = ['plain', 'corrected'] + (['hard'] if args.ablation else []) + (['clean'] if args.clean else [])
    tasks = [(clean if arm == 'clean' else noisy, clean, args.out / f'{arm}_{seed}', seed, args, arm)
             for seed in args.seeds for arm in arms]
    if args.jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context('spawn')) as pool:
            results = dict(pool.map(_run_arm, tasks))
    else:
        results = dict(map(_run_arm, tasks))
    rows = []
    print('| seed | noisy labels | noisy + self-correction | gain | seconds (plain / self-corr.) |'
          + (' noisy + cycles and aggregation, hard labels |' if args.ablation else '')
          + (' clean labels |' if args.clean else ''))
    print('|---:|---:|---:|---:|---:|' + ('---:|' if args.ablation else '') + ('---:|' if args.clean else ''))
    for seed in args.seeds:
        row = dict(seed=seed, **{arm: results[(seed, arm)] for arm in arms})
        plain, corrected = row['plain'], row['corrected']
        line = (f'| {seed} | {plain["mIoU"]:.2f} | {corrected["mIoU"]:.2f} | '
                f'{corrected["mIoU"] - plain["mIoU"]:+.2f} | {plain["seconds"]:.0f} / {corrected["seconds"]:.0f} |')
        for arm in ('hard', 'clean'):
            if arm in row:
                line += f' {row[arm]["mIoU"]:.2f} |'
        rows.append(row)
        print(line, flush=True)
    plain_mean, plain_sd = _mean_sd([r['plain']['mIoU'] for r in rows])
    schp_mean, schp_sd = _mean_sd([r['corrected']['mIoU'] for r in rows])
    gain_mean, gain_sd = _mean_sd([r['corrected']['mIoU'] - r['plain']['mIoU'] for r in rows])
    summary = (f'| mean +- sd ({len(rows)} seeds) | {plain_mean:.2f} +- {plain_sd:.2f} | {schp_mean:.2f} +- '
               f'{schp_sd:.2f} | {gain_mean:+.2f} +- {gain_sd:.2f} | |')
    if args.ablation:
        hard_mean, hard_sd = _mean_sd([r['hard']['mIoU'] for r in rows])
        summary += f' {hard_mean:.2f} +- {hard_sd:.2f} |'
    if args.clean:
        clean_mean, clean_sd = _mean_sd([r['clean']['mIoU'] for r in rows])
        summary += f' {clean_mean:.2f} +- {clean_sd:.2f} |'
    print(summary)
    classes = list(rows[0]['plain']['IoU'])
    gains = {name: statistics.mean(r['corrected']['IoU'][name] - r['plain']['IoU'][name] for r in rows)
             for name in classes}
    print('IoU gain per class (mean over seeds): ' + ', '.join(f'{name} {gains[name]:+.1f}' for name in classes))
    if args.diagnose:
        print(f'training images: the noisy labels score {agreement["mIoU"]:.1f} mIoU against the clean ones; '
              'the final models score (against clean / noisy training labels):')
        for row in rows:
            for arm in arms:
                work_dir = args.out / f'{arm}_{row["seed"]}'
                versus_clean = score_on_training_images(work_dir, clean, args)
                versus_noisy = score_on_training_images(work_dir, noisy, args)
                row[arm].update(train_vs_clean=versus_clean, train_vs_noisy=versus_noisy)
                print(f'  seed {row["seed"]} {arm:>9}: {versus_clean:.2f} / {versus_noisy:.2f}')
        print('at each aggregation (val: mIoU on the clean val labels; train: the model against the clean training '
              'labels; refined: the argmax of the refined labels of the next cycle against the clean / the noisy '
              'training labels; fixed / broken: % of the wrong noisy pixels they correct / of the right ones they '
              'make wrong):')
        print('| seed | arm | epoch | val, model as trained | val, aggregated | train, as trained | train, aggregated '
              '| refined vs clean | refined vs noisy | fixed % | broken % | weight gap |')
        print('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
        for row in rows:
            for arm in arms:
                for step in row[arm]['aggregations']:
                    last, avg = step['last'], step.get('averaged', {})
                    cells = [avg.get(key, float('nan')) for key in
                             ('val', 'train', 'refined_vs_clean', 'refined_vs_noisy', 'fixed', 'broken')]
                    print(f'| {row["seed"]} | {arm} | {step["epoch"]} | {last["val"]:.2f} | {cells[0]:.2f} | '
                          f'{last["train"]:.2f} | ' + ' | '.join(f'{c:.2f}' for c in cells[1:])
                          + f' | {step.get("weight_gap", float("nan")):.3f} |')
    wins = sum(r['corrected']['mIoU'] > r['plain']['mIoU'] for r in rows)
    print(f'self-correction better in {wins} of {len(rows)} seeds')
    if args.json:
        args.json.write_text(json.dumps(dict(agreement=agreement, rows=rows, gain_mean=gain_mean,
                                             gain_sd=gain_sd), indent=1))
    if args.min_gain is not None and gain_mean < args.min_gain:
        print(f'FAILED: mean gain {gain_mean:+.2f} below {args.min_gain:+.2f}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
