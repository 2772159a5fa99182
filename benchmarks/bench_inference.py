"""Inference: the ``lip-toolkit evaluate`` code path against the host library's own inference API.

The same model (same config, same weights), the same images, the same test-time work:

* pose: :func:`lip_toolkit.pose.inference.evaluate_checkpoint` (builds the model, loads the checkpoint, predicts
  the LIP val split with flip test, writes nothing, scores PCKh) against MMPose's ``init_model`` (weights
  loaded by our safe loader) + ``inference_topdown`` on each image with its whole-image box (the config's flip
  test) + the same PCKh scoring;
* parsing: :func:`lip_toolkit.parsing.inference.evaluate_checkpoint` (no flip, one scale, mIoU) against MMSeg's
  ``init_model`` + ``inference_model`` on batches of image paths + the same confusion-matrix scoring.
  ``evaluate`` runs every image centred on the config's square input canvas (480x480 for CE2P at 480: the
  geometry the models are trained on), while ``inference_model`` with the same config runs the resized image
  alone (480x320 for a portrait image): fewer pixels, less work. So parsing is also timed against
  ``inference_model`` with the config's test pipeline padded to the same canvas (MMCV's ``Pad``): the same
  pixels through the same network, which isolates the toolkit's overhead. The target is judged on that pair
  (its host scores are not comparable: MMSeg resizes the padded logits); the plain pair is printed beside it.

Both sides start from the config and checkpoint files, so model building and weight loading are inside both
timings. Sides are timed in interleaved rounds and the best round is kept. Times are CPU seconds of the process
(all threads): a shared machine stretches the wall clock, not them. Target: ours <= 1.05 x the host API.

Models: the demo tiny configs (``configs/demo/``) on synthetic LIP val images, and (``--full-size``, off in
``--quick``) HRNet-W32 at 384x288 and CE2P-OCNet R-101 at 480 on a few images. Weights are random (speed does not
depend on them); the checkpoint is written once to a temp folder.

Run:
    python benchmarks/bench_inference.py                 # tiny models on 48 images + full-size on 4
    python benchmarks/bench_inference.py --no-full-size  # tiny models only
    python benchmarks/bench_inference.py --quick         # seconds, for the smoke test
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_RATIO = 1.05
MODELS = {
    # label: (track, config, images used without --quick)
    'pose tiny HRNet 128x96': ('pose', 'configs/demo/pose_hrnet-tiny_lip-128x96.py', 48),
    'parsing tiny CE2P 96': ('parsing', 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py', 48),
    'pose HRNet-W32 384x288': ('pose', 'configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py', 4),
    'parsing CE2P-OCNet R101 480': ('parsing', 'configs/parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py',
                                    4),
}
FULL_SIZE = ('pose HRNet-W32 384x288', 'parsing CE2P-OCNet R101 480')


def write_checkpoint(track: str, config: str, path: Path) -> Path:
    """Random weights of the config's model, saved as a plain state dict (what our safe loader reads)."""
    import torch

    from lip_toolkit.core.runner import load_config
    torch.manual_seed(0)
    cfg = load_config(config)
    if track == 'pose':
        from lip_toolkit.pose.inference import build_pose_model
        model = build_pose_model(cfg, None, 'cpu')
    else:
        from lip_toolkit.parsing.inference import build_parsing_model
        model = build_parsing_model(cfg, None, 'cpu')
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def val_subset(data_root: Path, count: int, out: Path) -> Path:
    """A LIP tree whose val split is the first ``count`` val images of ``data_root`` (symlinks, same files)."""
    from lip_toolkit.core.io import read_id_list
    from lip_toolkit.parsing.datasets.lip import find_lip_split
    split = find_lip_split(data_root, 'val')
    ids = read_id_list(split.id_file)[:count]
    image_dir = out / 'TrainVal_images' / 'val_images'
    seg_dir = out / 'TrainVal_parsing_annotations' / 'val_segmentations'
    image_dir.mkdir(parents=True)
    seg_dir.mkdir(parents=True)
    for image_id in ids:
        os.symlink(split.image_dir / f'{image_id}.jpg', image_dir / f'{image_id}.jpg')
        os.symlink(split.seg_dir / f'{image_id}.png', seg_dir / f'{image_id}.png')
    (out / 'TrainVal_images' / 'val_id.txt').write_text(''.join(f'{i}\n' for i in ids))
    wanted = {f'{i}.jpg' for i in ids}
    csv = Path(data_root) / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
    (out / 'TrainVal_pose_annotations').mkdir()
    rows = [line for line in csv.read_text().splitlines() if line.partition(',')[0] in wanted]
    (out / 'TrainVal_pose_annotations' / 'lip_val_set.csv').write_text('\n'.join(rows) + '\n')
    return out


# --------------------------------------------------------------------------------------------------- ours
def ours_pose(config, checkpoint, data_root) -> float:
    from lip_toolkit.pose.inference import evaluate_checkpoint
    return evaluate_checkpoint(config, checkpoint, data_root=data_root, device='cpu')['PCKh']


def ours_parsing(config, checkpoint, data_root) -> float:
    from lip_toolkit.parsing.inference import evaluate_checkpoint
    return evaluate_checkpoint(config, checkpoint, data_root=data_root, device='cpu')['mIoU']


# --------------------------------------------------------------------------------------------------- host
def host_pose(config, checkpoint, data_root) -> float:
    """MMPose's own API: init_model, inference_topdown per image (whole-image box), then LIP PCKh."""
    from mmpose.apis import inference_topdown, init_model

    from lip_toolkit.core.checkpoint import load_checkpoint
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.pose.inference import _drop_pretrained
    from lip_toolkit.pose.lip_csv import read_lip_gt_csv
    from lip_toolkit.pose.metrics import compute_lip_pckh

    cfg = load_config(config)
    _drop_pretrained(cfg.model)
    model = init_model(cfg, None, device='cpu')
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    names, gt = read_lip_gt_csv(Path(data_root) / 'TrainVal_pose_annotations' / 'lip_val_set.csv')
    image_dir = Path(data_root) / 'TrainVal_images' / 'val_images'
    pred = np.stack([inference_topdown(model, str(image_dir / name))[0].pred_instances.keypoints[0]
                     for name in names])
    return compute_lip_pckh(gt, np.round(np.clip(pred, 0, None)))['Mean']


def host_parsing(config, checkpoint, data_root) -> float:
    """MMSeg's own API: init_model, inference_model on each image path, then LIP mIoU.

    One image a call: MMSeg's data preprocessor refuses a test batch of differently sized images, and LIP
    images differ in size.
    """
    from mmseg.apis import inference_model, init_model

    from lip_toolkit.core.checkpoint import load_checkpoint
    from lip_toolkit.core.io import read_id_list
    from lip_toolkit.core.runner import as_config
    from lip_toolkit.parsing.inference import _drop_pretrained
    from lip_toolkit.parsing.label_io import read_label_map
    from lip_toolkit.parsing.metrics import confusion_matrix, miou_from_confusion

    cfg = as_config(config)  # a path, or a Config (the padded variant)
    _drop_pretrained(cfg.model)
    model = init_model(cfg, None, device='cpu')
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    root = Path(data_root)
    ids = read_id_list(root / 'TrainVal_images' / 'val_id.txt')
    conf = np.zeros((20, 20), np.int64)
    for image_id in ids:
        result = inference_model(model, str(root / 'TrainVal_images' / 'val_images' / f'{image_id}.jpg'))
        labels = result.pred_sem_seg.data[0].numpy().astype(np.uint8)
        gt = read_label_map(root / 'TrainVal_parsing_annotations' / 'val_segmentations' / f'{image_id}.png',
                            role='gt', shape=labels.shape, num_classes=20)
        conf += confusion_matrix(gt, labels, num_classes=20, ignore_index=255)
    return miou_from_confusion(conf)['mIoU']


def host_parsing_same_canvas(config, checkpoint, data_root) -> float:
    """``host_parsing`` with each image padded to the config's input canvas after the resize (same pixels as
    ``evaluate``); its score is not LIP's (MMSeg resizes the padded logits to the image), only its time counts."""
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import config_input_size
    cfg = load_config(config)
    (height, width), _ = config_input_size(cfg)
    pipeline = []
    for transform in cfg.test_pipeline:
        pipeline.append(transform)
        if transform['type'] == 'Resize':
            pipeline.append(dict(type='Pad', size=(width, height), pad_val=dict(img=0, seg=255)))
    if len(pipeline) == len(cfg.test_pipeline):  # no Resize to pad after: this side would not be the same work
        raise RuntimeError(f'{config}: the test pipeline has no Resize step to pad after')
    cfg.test_pipeline = pipeline
    return host_parsing(cfg, checkpoint, data_root)


def timed(function, *args):
    """(CPU seconds of this process, all threads, value): on a shared machine the wall clock mostly measures
    the other processes; on an idle one the ratio of CPU times and of wall times agree."""
    start = time.process_time()
    value = function(*args)
    return time.process_time() - start, value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=None, help='val images for the tiny models (default 48)')
    parser.add_argument('--full-size-images', type=int, default=None, help='val images for full-size models')
    parser.add_argument('--rounds', type=int, default=3, help='interleaved rounds; the best of each is kept')
    parser.add_argument('--no-full-size', action='store_true', help='skip the full-size models')
    parser.add_argument('--only', choices=['pose', 'parsing'])
    parser.add_argument('--data-root', type=Path, help='a LIP release (val split) instead of synthetic LIP')
    parser.add_argument('--quick', action='store_true', help='tiny models, 4 images, 1 round, no warm-up (smoke test)')
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.rounds, args.no_full_size = args.images or 4, 1, True

    import torch

    from lip_toolkit.core.progress import set_quiet
    from lip_toolkit.registration import register_all_modules
    set_quiet(True)
    register_all_modules()
    labels = [label for label, (track, _, _) in MODELS.items()
              if args.only in (None, track) and not (args.no_full_size and label in FULL_SIZE)]
    print(f'CPU seconds of this process (all threads), torch threads {torch.get_num_threads()}, '
          f'CPUs {os.cpu_count()}, load average '
          f'{os.getloadavg()[0]:.1f}; best of {args.rounds} interleaved rounds', flush=True)
    failed = False
    with tempfile.TemporaryDirectory(prefix='bench_inference_') as tmp:
        tmp = Path(tmp)
        data_root = args.data_root
        if data_root is None:
            from lip_toolkit.synthetic import synthesize_lip
            data_root = tmp / 'synthetic'
            synthesize_lip(data_root, train=0, val=max(args.images or 48, args.full_size_images or 4), test=0,
                           seed=0)
        for label in labels:
            track, config, default_count = MODELS[label]
            count = (args.full_size_images if label in FULL_SIZE else args.images) or default_count
            subset = val_subset(data_root, count, tmp / f'subset_{len(os.listdir(tmp))}')
            checkpoint = write_checkpoint(track, config, tmp / f'{track}_{len(os.listdir(tmp))}.pth')
            ours, host = (ours_pose, host_pose) if track == 'pose' else (ours_parsing, host_parsing)
            sides = [ours, host] + ([host_parsing_same_canvas] if track == 'parsing' else [])
            if not args.quick:
                for side in sides:  # warm-up: lazy imports, registries
                    side(config, checkpoint, subset)
            times, scores = [[] for _ in sides], [None] * len(sides)
            for _ in range(args.rounds):
                for index, side in enumerate(sides):
                    seconds, scores[index] = timed(side, config, checkpoint, subset)
                    times[index].append(seconds)
            best = [min(t) for t in times]
            api = 'inference_topdown' if track == 'pose' else 'inference_model'
            print(f'{label:<28} {count:3d} images: evaluate {best[0]:7.2f} s | {api} {best[1]:7.2f} s '
                  f'(scores {scores[0]:.2f} / {scores[1]:.2f})', flush=True)
            judged = 1 if track == 'pose' else 2
            if track == 'parsing':
                print(f'{"":<28} {count:3d} images: {api} padded to evaluate\'s canvas {best[2]:7.2f} s', flush=True)
                print(f'ratio {label:<28} evaluate/host {best[0] / best[1]:5.2f}  (host runs fewer pixels)',
                      flush=True)
            ratio = best[0] / best[judged]
            verdict = 'meets' if ratio <= TARGET_RATIO else 'MISSES'
            failed |= ratio > TARGET_RATIO
            same = ' same canvas' if track == 'parsing' else ''
            print(f'ratio {label:<28} evaluate/host{same} {ratio:5.2f}  ({verdict} the <= {TARGET_RATIO} target)',
                  flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
