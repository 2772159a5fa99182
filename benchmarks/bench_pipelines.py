"""Training input pipelines, images per second in one process: ours against the stock MMPose / MMSeg pipelines.

Each figure is one worker: a single process, no DataLoader workers, samples fetched with ``dataset[i]`` exactly
as a DataLoader worker does (decode, augment, targets, packing). Both sides of a comparison read the same image
files, are timed in interleaved rounds (so a busy moment hits both alike), and the best round is kept.

Pose (heatmap targets), at 384x288 and 512x384:
  * ours: ``LIPPoseDataset`` with the ``train_pipeline`` of ``configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-
    384x288.py`` / ``...-lip-trainval-coco-aic-512x384.py`` (MMPose's transforms, except the bounding-box jitter
    ``LIPRandomBBoxTransform`` and the heatmap encoder ``LIPMSRAHeatmap``: the same results, computed faster);
  * stock: MMPose's ``MpiiDataset`` (an MPII-format JSON written for the same images and joints) with MMPose's
    MPII-style top-down pipeline: LoadImage, GetBBoxCenterScale, RandomFlip, RandomHalfBody, RandomBBoxTransform,
    TopdownAffine, GenerateTarget (MSRAHeatmap, the same codec), PackPoseInputs.
  Images: the real LIP val images in ``../shared/real/images`` when present (their rows of the real CSV),
  otherwise synthetic LIP (``--data-root`` takes a LIP release instead: its train split).

Parsing (edge targets), at 480 and 576:
  * ours: ``LIPParsingDataset`` with the ``train_pipeline`` of ``configs/_base_/parsing_lip-480x480.py`` /
    ``-576x576.py`` (LIPRandomAffine, LIPRandomFlip, GenerateEdge);
  * stock: MMSeg's ``LIPDataset`` on the same folders with the pipeline of MMSeg's LIP config
    (``lip_321x321.py``) at the same crop, minus PhotoMetricDistortion and normalisation (ours has neither):
    LoadImageFromFile, LoadAnnotations, RandomResize (0.75-1.25), RandomCrop (cat_max_ratio 0.75), RandomFlip
    with the LIP label swap, RandomRotate (p 0.6, 30 deg), Pad to the crop (labels 255), GenerateEdge (width 3),
    PackSegInputs -- the same work: scale, rotate, crop, flip with swap, edges, one crop-sized sample out.
  Images: synthetic LIP (image and label map pairs; the shared real material has no label maps), or
  ``--data-root``.

Run:
    python benchmarks/bench_pipelines.py                  # 120 samples a round, 3 rounds
    python benchmarks/bench_pipelines.py --quick          # seconds: tiny sizes, for the smoke test
    python benchmarks/bench_pipelines.py --profile pose-384x288-ours   # cProfile one pipeline instead
    python benchmarks/bench_pipelines.py --targets        # MMPose's target pieces against our replacements

Prints one line per pipeline and one ``ratio`` line per comparison (ours / stock, higher is better; the target is
>= 1.0).
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

POSE_CONFIGS = {
    '384x288': 'configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py',
    '512x384': 'configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-512x384.py',
}
PARSING_CONFIGS = {
    '480': 'configs/_base_/parsing_lip-480x480.py',
    '576': 'configs/_base_/parsing_lip-576x576.py',
}
REAL_DIRS = (REPO.parent / 'shared' / 'real', Path('/work/shared/real'))
TARGET_RATIO = 1.0


# ----------------------------------------------------------------------------------------------------- data
def real_material():
    """The shared real LIP folder (val CSV + a few val images), or None."""
    for candidate in REAL_DIRS:
        if (candidate / 'lip_val_set.csv').is_file() and (candidate / 'images').is_dir():
            return candidate
    return None


def real_pose_tree(real: Path, out: Path) -> Path:
    """A LIP train split made of the real val images on hand and their rows of the real val CSV."""
    images = sorted(p.name for p in (real / 'images').glob('*.jpg'))
    wanted = set(images)
    rows = [line for line in (real / 'lip_val_set.csv').read_text().splitlines()
            if line.partition(',')[0] in wanted]
    image_dir = out / 'TrainVal_images' / 'train_images'
    image_dir.mkdir(parents=True)
    for name in images:
        shutil.copy(real / 'images' / name, image_dir / name)
    (out / 'TrainVal_images' / 'train_id.txt').write_text(''.join(n[:-4] + '\n' for n in images))
    (out / 'TrainVal_pose_annotations').mkdir()
    (out / 'TrainVal_pose_annotations' / 'lip_train_set.csv').write_text('\n'.join(rows) + '\n')
    return out


def mpii_json_for(names, keypoints, sizes, path: Path) -> Path:
    """MPII-format annotations (centre, scale / 200, 1-based joints) of the same images, for ``MpiiDataset``."""
    anns = []
    for name, joints, (width, height) in zip(names, keypoints, sizes):
        labelled = ~np.isnan(joints[:, :2]).any(axis=1)
        # MpiiDataset shifts the centre 15 px down and subtracts 1: undo both, so the box is the whole image
        scale = max(width, height) / 200.0
        centre = [width / 2.0 + 1, height / 2.0 + 1 - 15.0 * scale]
        anns.append(dict(image=name, center=centre, scale=scale,
                         joints=np.where(labelled[:, None], joints[:, :2], -1).tolist(),
                         joints_vis=labelled.astype(int).tolist()))
    path.write_text(json.dumps(anns))
    return path


# ------------------------------------------------------------------------------------------------ pipelines
def pose_datasets(data_root: Path, size: str, work: Path):
    """(ours, stock) pose datasets for one input size, over the same images."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.registration import register_all_modules

    register_all_modules(parsing=False)
    init_default_scope('mmpose')
    cfg = load_config(POSE_CONFIGS[size])
    ours = DATASETS.build(dict(type='LIPPoseDataset', data_root=str(data_root), split='train',
                               pipeline=cfg.train_pipeline))
    codec = cfg.codec
    stock_pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal'),
        dict(type='RandomHalfBody'),
        dict(type='RandomBBoxTransform'),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs'),
    ]
    infos = [ours.get_data_info(i) for i in range(len(ours))]
    names = [os.path.basename(info['img_path']) for info in infos]
    keypoints = [info['raw_ann_info']['lip_keypoints'] for info in infos]
    sizes = [(info['raw_ann_info']['width'], info['raw_ann_info']['height']) for info in infos]
    ann = mpii_json_for(names, keypoints, sizes, work / f'mpii_{size}.json')
    stock = DATASETS.build(dict(type='MpiiDataset', data_root='', ann_file=str(ann),
                                data_prefix=dict(img=os.path.dirname(infos[0]['img_path']) + os.sep),
                                pipeline=stock_pipeline))
    return ours, stock


def parsing_datasets(data_root: Path, size: str):
    """(ours, stock) parsing datasets for one crop size, over the same images and label maps."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.classes import LIP_FLIP_PAIRS
    from lip_toolkit.parsing.datasets.lip import find_lip_split
    from lip_toolkit.registration import register_all_modules

    register_all_modules(pose=False)
    init_default_scope('mmseg')
    cfg = load_config(PARSING_CONFIGS[size])
    ours = DATASETS.build(dict(type='LIPParsingDataset', data_root=str(data_root), split='train',
                               pipeline=cfg.train_pipeline))
    crop = tuple(cfg.crop_size)
    stock_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='RandomResize', scale=crop, ratio_range=(0.75, 1.25), keep_ratio=True),
        dict(type='RandomCrop', crop_size=crop, cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5, swap_seg_labels=[tuple(p) for p in LIP_FLIP_PAIRS]),
        dict(type='RandomRotate', prob=0.6, degree=30, pad_val=0, seg_pad_val=255),
        dict(type='Pad', size=crop, pad_val=dict(img=0, seg=255)),
        dict(type='GenerateEdge', edge_width=3, ignore_index=255),
        dict(type='PackSegInputs'),
    ]
    split = find_lip_split(data_root, 'train')
    stock = DATASETS.build(dict(type='LIPDataset', data_root='',
                                data_prefix=dict(img_path=str(split.image_dir), seg_map_path=str(split.seg_dir)),
                                pipeline=stock_pipeline))
    if len(stock) != len(ours):
        raise RuntimeError(f'stock LIPDataset lists {len(stock)} images, ours {len(ours)}')
    return ours, stock


def check_sample(kind: str, sample, size: str) -> None:
    """Both pipelines must produce the same kind of sample (crop-sized input and targets)."""
    inputs = sample['inputs']
    data = sample['data_samples']
    if kind == 'pose':
        height, width = (int(v) for v in size.split('x'))
        assert tuple(inputs.shape[-2:]) == (height, width), inputs.shape
        assert data.gt_fields.heatmaps.shape[0] == 16
    else:
        assert tuple(inputs.shape[-2:]) == (int(size), int(size)), inputs.shape
        assert tuple(data.gt_edge_map.data.shape[-2:]) == (int(size), int(size))


def images_per_second(dataset, count: int, seed: int) -> float:
    """Samples per CPU second fetching ``count`` samples (cycling over the dataset) in this process.

    CPU time of this process, not wall time: on a shared machine other processes stretch the wall clock, while a
    single-threaded worker's CPU time is what it costs (on an idle core the two agree).
    """
    np.random.seed(seed)
    length = len(dataset)
    start = time.process_time()
    for index in range(count):
        dataset[index % length]
    return count / (time.process_time() - start)


def compare(label: str, ours, stock, count: int, rounds: int, kind: str, size: str) -> dict:
    check_sample(kind, ours[0], size)
    check_sample(kind, stock[0], size)
    images_per_second(ours, min(8, count), 0)   # warm the page cache and lazy imports
    images_per_second(stock, min(8, count), 0)
    best = {'ours': 0.0, 'stock': 0.0}
    for round_index in range(rounds):
        for side, dataset in (('ours', ours), ('stock', stock)):
            best[side] = max(best[side], images_per_second(dataset, count, round_index))
    ratio = best['ours'] / best['stock']
    verdict = 'meets' if ratio >= TARGET_RATIO else 'MISSES'
    print(f'{label:<18} ours  {best["ours"]:7.1f} img/s | stock {best["stock"]:7.1f} img/s', flush=True)
    print(f'ratio {label:<12} ours/stock {ratio:5.2f}  ({verdict} the >= {TARGET_RATIO} target)', flush=True)
    return dict(label=label, ratio=ratio, **best)


def profile(dataset, count: int, top: int = 18) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    images_per_second(dataset, count, 0)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats('tottime').print_stats(top)
    print(stream.getvalue())


def target_pieces(calls: int = 2000) -> None:
    """Per-call CPU time of MMPose's target pieces and of the drop-in replacements our pose configs use."""
    from mmpose.codecs.utils.gaussian_heatmap import generate_gaussian_heatmaps
    from mmpose.datasets.transforms import RandomBBoxTransform

    from lip_toolkit.pose.datasets.transforms import LIPRandomBBoxTransform, gaussian_heatmaps_vectorised

    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, [72, 96], (1, 16, 2))
    visible = np.ones((1, 16), np.float32)
    pieces = [
        ('heatmaps 16 joints 72x96 sigma 3', lambda: generate_gaussian_heatmaps((72, 96), keypoints, visible, 3),
         lambda: gaussian_heatmaps_vectorised((72, 96), keypoints, visible, 3)),
        ('bbox jitter truncated normal (1, 4)', lambda: RandomBBoxTransform._truncnorm(size=(1, 4)),
         lambda: LIPRandomBBoxTransform._truncnorm(size=(1, 4))),
    ]
    for label, mmpose_call, our_call in pieces:
        times = []
        for function in (mmpose_call, our_call):
            best = float('inf')
            for _ in range(3):
                start = time.process_time()
                for _ in range(calls):
                    function()
                best = min(best, (time.process_time() - start) / calls)
            times.append(best)
        print(f'{label:<36} MMPose {1000 * times[0]:6.3f} ms | ours {1000 * times[1]:6.3f} ms '
              f'({times[0] / times[1]:.1f}x faster)', flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=120, help='samples fetched per round and pipeline')
    parser.add_argument('--rounds', type=int, default=3, help='interleaved rounds; the best of each is kept')
    parser.add_argument('--only', choices=['pose', 'parsing'], help='run one track only')
    parser.add_argument('--pose-sizes', nargs='+', default=list(POSE_CONFIGS), choices=list(POSE_CONFIGS))
    parser.add_argument('--parsing-sizes', nargs='+', default=list(PARSING_CONFIGS), choices=list(PARSING_CONFIGS))
    parser.add_argument('--data-root', type=Path, help='a LIP release (train split) instead of the default data')
    parser.add_argument('--synthetic-images', type=int, default=60, help='synthetic LIP train images to write')
    parser.add_argument('--quick', action='store_true', help='tiny run for the smoke test (seconds)')
    parser.add_argument('--targets', action='store_true',
                        help="time MMPose's heatmap and truncated-normal pieces against ours, then stop")
    parser.add_argument('--profile', metavar='TRACK-SIZE-SIDE',
                        help='cProfile one pipeline instead of timing, e.g. pose-384x288-ours, parsing-480-stock')
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.rounds, args.synthetic_images = 6, 1, 4
        args.pose_sizes, args.parsing_sizes = args.pose_sizes[:1], args.parsing_sizes[:1]

    import cv2
    import torch

    from lip_toolkit.core.progress import set_quiet
    set_quiet(True)
    # One DataLoader worker is one thread: mmengine starts workers with OpenCV threading off (opencv_num_threads=0)
    cv2.setNumThreads(0)
    torch.set_num_threads(1)
    print(f'one worker (single process, single thread); img/s = samples per CPU second of this process; '
          f'{args.count} samples a round, best of {args.rounds} interleaved rounds; CPUs {os.cpu_count()}, '
          f'load average {os.getloadavg()[0]:.1f}', flush=True)
    if args.targets:
        target_pieces(200 if args.quick else 2000)
        return 0
    with tempfile.TemporaryDirectory(prefix='bench_pipelines_') as tmp:
        tmp = Path(tmp)
        synthetic = None

        def synthetic_root():
            nonlocal synthetic
            if synthetic is None:
                from lip_toolkit.synthetic import synthesize_lip
                synthetic = tmp / 'synthetic'
                synthesize_lip(synthetic, train=args.synthetic_images, val=0, test=0, seed=0)
            return synthetic

        real = real_material()
        pose_root = args.data_root or (real_pose_tree(real, tmp / 'real') if real else synthetic_root())
        parsing_root = args.data_root or synthetic_root()
        tracks = [t for t in ('pose', 'parsing') if args.only in (None, t)]
        if args.profile:
            track, size, side = args.profile.split('-')
            ours, stock = (pose_datasets(pose_root, size, tmp) if track == 'pose'
                           else parsing_datasets(parsing_root, size))
            profile(ours if side == 'ours' else stock, args.count)
            return 0
        results = []
        if 'pose' in tracks:
            source = 'synthetic LIP' if pose_root == synthetic else ('real LIP val' if real and not args.data_root
                                                                     else str(pose_root))
            print(f'pose images: {source}', flush=True)
            for size in args.pose_sizes:
                ours, stock = pose_datasets(pose_root, size, tmp)
                results.append(compare(f'pose {size}', ours, stock, args.count, args.rounds, 'pose', size))
        if 'parsing' in tracks:
            print(f'parsing images: {"synthetic LIP" if parsing_root == synthetic else parsing_root}', flush=True)
            for size in args.parsing_sizes:
                ours, stock = parsing_datasets(parsing_root, size)
                results.append(compare(f'parsing {size}', ours, stock, args.count, args.rounds, 'parsing', size))
    return 0 if all(r['ratio'] >= TARGET_RATIO for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
