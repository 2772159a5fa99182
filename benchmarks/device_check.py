"""Device check: every model trains and evaluates on the given device, timed against stock MMPose / MMSeg.

Made for one call on a lent GPU machine (benchmarks/device_check.sh installs the stack from a carried wheelhouse
first, docs/gpu.md); dry-run on a CPU at reduced size with ``--device cpu --reduced`` (a slow test runs that).

Steps, in order of importance (each one timed; a failing step is recorded and the others still run; steps that
would start after ``--budget-s`` are recorded as skipped):

1. environment: torch / CUDA / GPU name, mmcv and whether its compiled ops import (CPU ops are enough);
2. synthetic LIP (``lip_toolkit.synthetic``) for training and evaluation;
3. training through ``lip_toolkit.core.runner.train`` with the configs' speed settings (mixed precision on
   CUDA) for ``--iters`` iterations: HRNet-W32 384x288, 4xMSPN-50, PoseFix, CE2P-OCNet R-101 480 plain and with
   DCNv2TV in stages 2-4, HRNetV2-W48 480 (random initialisation: the machine has no network). Pose configs that
   mix in COCO keep their LIP part only. Step time = median of mmengine's per-iteration ``time`` after warm-up;
4. the same training with ``gpu_speed=False`` (float32) for HRNet-W32 and CE2P: the AMP speed-up;
5. the same training the stock way: mmengine's ``Runner.from_cfg`` as MMPose's / MMSeg's ``tools/train.py`` build
   it, with their ``--amp`` (``AmpOptimWrapper``, float16, dynamic loss scale) on CUDA, float32 on CPU;
6. ``evaluate`` (HRNet-W32 with flip, CE2P with and without flip; images/s end to end with JPEG decoding and
   scoring) against MMPose's / MMSeg's own test loop (``Runner.test`` with the config's test settings: MMPose
   flips as the config says, MMSeg's loop does not flip) on the same images with the same checkpoint;
7. ``ensemble`` (pose: HRNet-W32 + MSPN refined by PoseFix; parsing: CE2P + HRNetV2) and ``predict``;
8. the same checkpoints' ``predict`` outputs on the device and on the CPU compared (joints: largest
   difference in pixels; parsing: share of equal labels).

``--reduced`` swaps in the demo configs (``configs/demo/``: the same code paths at tiny widths and inputs) and
small image counts. Results go to ``--out`` (JSON) and ``--markdown`` (a section for docs/benchmarks.md, headed with
the device's name; a CPU dry run says so and is no GPU figure).

Run:
    python benchmarks/device_check.py --device cpu --reduced --work /tmp/device_check   # dry run, minutes
    python benchmarks/device_check.py --device cuda --work /tmp/dc --out $OUT/device_check.json \\
        --markdown $OUT/device_check.md                                                  # on the GPU machine
"""
import argparse
import copy
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DCN_OPTIONS = {'model.backbone.dcn': dict(type='DCNv2TV', deform_groups=1, fallback_on_stride=False),
               'model.backbone.stage_with_dcn': (False, True, True, True)}
FULL = {
    'hrnet_w32': ('pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py', {}),
    'mspn': ('pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-coco-384x288.py', {}),
    'posefix': ('pose/posefix/posefix_res152_8xb16-140e_lip-coco-384x288.py', {}),
    'ce2p_r101': ('parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py', {}),
    'ce2p_dcn_r101': ('parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py', DCN_OPTIONS),
    'hrnetv2_w48': ('parsing/hrnet/fcn_hrnetv2-w48_4xb10-150e_lip-480x480.py', {}),
}
REDUCED = {
    'hrnet_w32': ('demo/pose_hrnet-tiny_lip-128x96.py', {}),
    'mspn': ('demo/pose_mspn-tiny_lip-128x96.py', {}),
    'posefix': ('demo/pose_posefix-tiny_lip-128x96.py', {}),
    'ce2p_r101': ('demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py', {}),
    'ce2p_dcn_r101': ('demo/parsing_ce2p-aspoc_dcn-r50-tiny_30e_synthetic-96x96.py', {}),
    'hrnetv2_w48': ('demo/parsing_fcn_hrnetv2-tiny_30e_synthetic-96x96.py', {}),
}
LIP_TYPES = ('LIPPoseDataset', 'LIPParsingDataset')


class Check:
    """Runs the steps, records each one's outcome and wall time, honours the time budget."""

    def __init__(self, budget_s):
        self.start = time.perf_counter()
        self.budget_s = budget_s
        self.steps = []
        self.results = {}

    def step(self, name, func, *args, **kwargs):
        elapsed = time.perf_counter() - self.start
        if elapsed > self.budget_s:
            self.steps.append(dict(step=name, status='skipped (time budget)', seconds=0.0))
            print(f'[device-check] {name}: skipped, {elapsed:.0f} s of {self.budget_s:.0f} s used', flush=True)
            return None
        print(f'[device-check] {name} ...', flush=True)
        began = time.perf_counter()
        try:
            value = func(*args, **kwargs)
            status = 'ok'
        except Exception as exc:  # one failing step must not hide the others' results
            value = None
            status = f'FAILED: {type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ""}'
            traceback.print_exc()
        seconds = time.perf_counter() - began
        self.steps.append(dict(step=name, status=status, seconds=round(seconds, 1)))
        print(f'[device-check] {name}: {status} ({seconds:.1f} s)', flush=True)
        if value is not None:
            self.results[name] = value
        return value

    @property
    def failed(self):
        return [s for s in self.steps if s['status'] != 'ok']


# --- environment and data ------------------------------------------------------------------------------------

def environment(device):
    import mmcv
    import mmengine
    import numpy
    import torch
    import torchvision
    info = dict(python=platform.python_version(), torch=torch.__version__, torchvision=torchvision.__version__,
                numpy=numpy.__version__, mmcv=mmcv.__version__, mmengine=mmengine.__version__,
                cuda_available=torch.cuda.is_available(), device=device, cpus=os.cpu_count())
    try:
        import mmcv.ops  # noqa: F401
        info['mmcv_ops'] = 'import ok'
    except Exception as exc:
        info['mmcv_ops'] = f'import fails: {exc}'
    if device.startswith('cuda'):
        info['gpu'] = torch.cuda.get_device_name(0)
        info['capability'] = '.'.join(map(str, torch.cuda.get_device_capability(0)))
        info['cuda'] = torch.version.cuda
        from lip_toolkit.core.gpu_speed import amp_dtype_for_this_gpu
        info['amp_dtype'] = amp_dtype_for_this_gpu()
    else:
        info['gpu'] = None
        info['cpu'] = platform.processor() or platform.machine()
    for name in ('mmpose', 'mmseg', 'mmdet'):
        module = __import__(name)
        info[name] = module.__version__
    return info


def make_data(root, train, val, test):
    from lip_toolkit.synthetic import synthesize_lip
    summary = synthesize_lip(root, train=train, val=val, test=test, seed=0, overwrite=True)
    return dict(root=str(root), counts=summary.counts, seconds=round(summary.seconds, 1))


# --- training -----------------------------------------------------------------------------------------------

def _lip_only(node):
    """The LIP part of a training dataset (the machine has no COCO / AI Challenger / multi-human crops)."""
    if isinstance(node, dict) and isinstance(node.get('datasets'), list):
        node['datasets'] = [d for d in node['datasets'] if d.get('type') in LIP_TYPES]
        for child in node['datasets']:
            _lip_only(child)
    elif isinstance(node, dict) and isinstance(node.get('dataset'), dict):
        _lip_only(node['dataset'])


def _no_pretrained(node):
    """Random initialisation instead of ImageNet / COCO downloads (the GPU machine has no network)."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        for key in ('pretrained',):
            if isinstance(node.get(key), str):
                node[key] = None
        for value in node.values():
            _no_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _no_pretrained(value)


def training_config(config, options, data_root, work_dir, iters, num_train, batch_size=None, workers=None):
    """The config ready for a short training run: LIP only, random init, ``iters`` iterations, no validation,
    one checkpoint at the end, a log line per iteration."""
    from lip_toolkit.core.runner import load_config
    cfg = load_config(config, dict(options))
    _lip_only(cfg.train_dataloader.dataset)
    _no_pretrained(cfg.model)
    loader = cfg.train_dataloader
    if batch_size is not None:
        loader.batch_size = batch_size
    if workers is not None:
        loader.num_workers = workers
        loader.persistent_workers = workers > 0 and loader.get('persistent_workers', False)
    # repeat the small synthetic set so that one epoch is the wanted number of iterations
    times = max(1, math.ceil(iters * loader.batch_size / num_train))
    loader.dataset = dict(type='RepeatDataset', times=times, dataset=loader.dataset)
    loader.sampler = dict(type='DefaultSampler', shuffle=True)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=10 ** 6)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, by_epoch=True, save_best=None,
                                        max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks') or [] if h.get('type') != 'EMAHook']
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)
    return cfg


def step_times(work_dir, warmup):
    """Per-iteration times (s) from mmengine's scalars log, the first ``warmup`` dropped."""
    (scalars,) = Path(work_dir).glob('*/vis_data/scalars.json')
    rows = [json.loads(line) for line in scalars.read_text().splitlines() if line.strip()]
    times = [row['time'] for row in rows if 'time' in row]
    data_times = [row['data_time'] for row in rows if 'data_time' in row]
    kept = times[warmup:] or times
    kept_data = data_times[warmup:] or data_times
    return dict(iterations=len(times), median_step_s=round(statistics.median(kept), 4),
                median_data_s=round(statistics.median(kept_data), 4) if kept_data else None)


def train_ours(name, config, options, args, gpu_speed=True, suffix=''):
    from lip_toolkit.core.runner import build_runner, merge_train_args
    work_dir = Path(args.work) / f'train_{name}{suffix}'
    cfg = training_config(config, options, args.data, work_dir, args.iters, args.train_images,
                          batch_size=args.batch_size, workers=args.workers)
    merge_train_args(cfg, config, work_dir=work_dir, data_root=args.data, gpu_speed=gpu_speed)
    cfg.log_level = 'WARNING'
    runner = build_runner(cfg)
    runner.train()
    (checkpoint,) = work_dir.glob('epoch_1.pth')
    result = step_times(work_dir, args.warmup)
    result.update(optim_wrapper=type(runner.optim_wrapper).__name__,
                  dtype=str(getattr(runner.optim_wrapper, 'cast_dtype', None) or 'float32').replace('torch.', ''),
                  batch_size=cfg.train_dataloader.batch_size, checkpoint=str(checkpoint), config=config)
    return result


def train_stock(name, config, options, args):
    """MMPose's / MMSeg's tools/train.py: Runner.from_cfg on the config, their --amp on CUDA."""
    from mmengine.runner import Runner
    from lip_toolkit.core.runner import set_lip_data_root
    work_dir = Path(args.work) / f'train_{name}_stock'
    cfg = training_config(config, options, args.data, work_dir, args.iters, args.train_images,
                          batch_size=args.batch_size, workers=args.workers)
    set_lip_data_root(cfg, args.data)
    cuda = args.device.startswith('cuda')
    # their --amp: AmpOptimWrapper with dynamic loss scaling and autocast's default type (float16)
    cfg.optim_wrapper = dict(cfg.optim_wrapper, type='AmpOptimWrapper' if cuda else 'OptimWrapper')
    if cuda:
        cfg.optim_wrapper['loss_scale'] = 'dynamic'
    else:
        cfg.train_dataloader.pin_memory = False
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    result = step_times(work_dir, args.warmup)
    result.update(optim_wrapper=type(runner.optim_wrapper).__name__, dtype='float16' if cuda else 'float32',
                  batch_size=cfg.train_dataloader.batch_size)
    return result


# --- evaluation, ensemble, predict ----------------------------------------------------------------------------

def evaluate_ours(config, options, checkpoint, args, flip):
    from lip_toolkit.evaluation import evaluate_model
    began = time.perf_counter()
    result = evaluate_model(config, checkpoint, flip=flip, split='val', data_root=args.data, device=args.device,
                            cfg_options=dict(options) or None)
    seconds = time.perf_counter() - began
    scores = {k: v for k, v in result.items() if isinstance(v, (int, float))}
    return dict(images=args.val_images, seconds=round(seconds, 2),
                images_per_s=round(args.val_images / seconds, 2), flip=flip, scores=scores)


def evaluate_stock(config, options, checkpoint, args):
    """MMPose's / MMSeg's own test loop (``Runner.test``) on the same split, checkpoint and metric."""
    import torch
    from mmengine.runner import Runner
    from lip_toolkit.core.checkpoint import install_mmengine_checkpoint_loader
    from lip_toolkit.core.runner import load_config, set_lip_data_root
    cfg = load_config(config, dict(options))
    _no_pretrained(cfg.model)
    set_lip_data_root(cfg, args.data)
    cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
    cfg.test_evaluator = copy.deepcopy(cfg.val_evaluator)
    if args.workers is not None:
        cfg.test_dataloader.num_workers = args.workers
        cfg.test_dataloader.persistent_workers = False
    if not torch.cuda.is_available():
        cfg.test_dataloader.pin_memory = False
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = cfg.param_scheduler = None
    cfg.load_from = str(checkpoint)
    cfg.work_dir = str(Path(args.work) / f'test_stock_{Path(config).stem}')
    cfg.log_level = 'WARNING'
    install_mmengine_checkpoint_loader()  # our checkpoints load through the safe loader, as everywhere
    began = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    seconds = time.perf_counter() - began
    flip = (cfg.model.get('test_cfg') or {}).get('flip_test', False)
    return dict(images=args.val_images, seconds=round(seconds, 2), images_per_s=round(args.val_images / seconds, 2),
                flip=bool(flip), scores={k: float(v) for k, v in metrics.items()})


def ensemble_run(members, args, out, refiner=None):
    """``ensemble`` over the val split; ``out`` is the pose CSV or the parsing PNG folder."""
    from lip_toolkit.ensemble import run_ensemble
    began = time.perf_counter()
    result = run_ensemble(members=members, refiner=refiner, split='val', data_root=args.data, device=args.device,
                          out=str(out))
    seconds = time.perf_counter() - began
    return dict(seconds=round(seconds, 2), members=len(members), refiner=refiner is not None,
                scores={k: v for k, v in result.items() if isinstance(v, (int, float))})


def _test_images(args, count):
    folder = Path(args.data) / 'Testing_images' / 'testing_images'
    return sorted(folder.glob('*.jpg'))[:count]


def predict_outputs(config, options, checkpoint, device, out_dir, images):
    from lip_toolkit.predict import predict
    return predict([str(p) for p in images], out_dir, config=config, checkpoint=checkpoint, device=device,
                   overlays=False, cfg_options=dict(options) or None)


def compare_devices(config, options, checkpoint, args, images):
    """``predict`` on the device and on the CPU with the same checkpoint, outputs compared."""
    import numpy as np
    from PIL import Image
    on_device = predict_outputs(config, options, checkpoint, args.device, Path(args.work) / 'pred_device' /
                                Path(config).stem, images)
    on_cpu = predict_outputs(config, options, checkpoint, 'cpu', Path(args.work) / 'pred_cpu' / Path(config).stem,
                             images)
    if on_device['track'] == 'pose':
        def joints(result):
            rows = {}
            for line in Path(result['csv']).read_text().splitlines():
                cells = line.split(',')
                rows[cells[0]] = np.array([float(c) if c not in ('', 'nan') else np.nan for c in cells[1:]])
            return rows
        a, b = joints(on_device), joints(on_cpu)
        diffs = np.concatenate([np.abs(a[k] - b[k]) for k in sorted(a)])
        return dict(track='pose', images=len(a), max_abs_diff=float(np.nanmax(diffs)),
                    mean_abs_diff=float(np.nanmean(diffs)))
    device_dir, cpu_dir = Path(on_device['out_dir']), Path(on_cpu['out_dir'])
    labels_a = sorted(device_dir.rglob('*.png'))  # label maps (overlays are off)
    equal = total = 0
    for path in labels_a:
        other = cpu_dir / path.relative_to(device_dir)
        x, y = np.asarray(Image.open(path)), np.asarray(Image.open(other))
        equal += int((x == y).sum())
        total += x.size
    return dict(track='parsing', images=len(labels_a), equal_label_share=round(equal / max(total, 1), 6))


# --- report -------------------------------------------------------------------------------------------------

def markdown(check, args):
    env = check.results.get('environment', {})
    device_name = env.get('gpu') or f"CPU ({env.get('cpus')} cores) -- dry run, not a GPU figure"
    lines = [f"### Device check on {device_name}", '',
             f"`python benchmarks/device_check.py --device {args.device}{' --reduced' if args.reduced else ''} "
             f"--iters {args.iters}`; torch {env.get('torch')}, mmcv {env.get('mmcv')} ({env.get('mmcv_ops')}), "
             f"Python {env.get('python')}; {'demo configs (reduced size)' if args.reduced else 'full-size configs'}, "
             f"synthetic LIP, random weights.", '',
             '| training | optim wrapper | dtype | batch | median step (s) | stock step (s) | float32 step (s) |',
             '|---|---|---|---|---|---|---|']
    for name in FULL:
        ours = check.results.get(f'train {name}')
        if not ours:
            continue
        stock = check.results.get(f'train {name} stock') or {}
        fp32 = check.results.get(f'train {name} float32') or {}
        lines.append(f"| {name} | {ours['optim_wrapper']} | {ours['dtype']} | {ours['batch_size']} | "
                     f"{ours['median_step_s']} | {stock.get('median_step_s', '-')} | {fp32.get('median_step_s', '-')} |")
    lines += ['', '| evaluate | images | flip | ours images/s | stock test loop images/s (flip) |', '|---|---|---|---|---|']
    for name in ('hrnet_w32', 'ce2p_r101'):
        stock = check.results.get(f'evaluate {name} stock') or {}
        for flip in (True, False):
            ours = check.results.get(f'evaluate {name} flip={flip}')
            if ours:
                lines.append(f"| {name} | {ours['images']} | {flip} | {ours['images_per_s']} | "
                             f"{stock.get('images_per_s', '-')} ({stock.get('flip', '-')}) |")
    compared = [(k, v) for k, v in check.results.items() if k.startswith('device vs cpu')]
    if compared:
        lines += ['', '| same checkpoint, device vs CPU | result |', '|---|---|']
        for key, value in compared:
            detail = (f"max joint difference {value['max_abs_diff']:.3g} px" if value['track'] == 'pose'
                      else f"equal labels {100 * value['equal_label_share']:.3f} %")
            lines.append(f"| {key[len('device vs cpu '):]} | {detail} ({value['images']} images) |")
    lines += ['', '| step | status | seconds |', '|---|---|---|']
    lines += [f"| {s['step']} | {s['status']} | {s['seconds']} |" for s in check.steps]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda', help="'cuda' (the check) or 'cpu' (the dry run)")
    parser.add_argument('--reduced', action='store_true', help='demo configs and small counts (the CPU dry run)')
    parser.add_argument('--work', default='work_dirs/device_check', help='scratch folder (data, runs)')
    parser.add_argument('--iters', type=int, default=None, help='training iterations per run (default 30; 3)')
    parser.add_argument('--warmup', type=int, default=None, help='iterations left out of the median (5; 1)')
    parser.add_argument('--val-images', type=int, default=None, help='images evaluated (default 2000; 8)')
    parser.add_argument('--train-images', type=int, default=None, help='synthetic training images (256; 6)')
    parser.add_argument('--batch-size', type=int, default=None, help="override every config's batch size")
    parser.add_argument('--workers', type=int, default=None, help='dataloader workers (default: the configs\')')
    parser.add_argument('--budget-s', type=float, default=None,
                        help='start no step after this many seconds (default 420: the 10-minute call less the '
                             'install and a margin; reduced: no limit)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch\'s; reduced on CPU: 1, as the tests run, since '
                             'OpenMP threads spin against other processes on shared cores)')
    parser.add_argument('--only', nargs='*', default=None, help='run only the steps whose names contain these')
    parser.add_argument('--out', default=None, help='results JSON')
    parser.add_argument('--markdown', default=None, help='results section for docs/benchmarks.md')
    args = parser.parse_args(argv)
    small = args.reduced
    args.iters = args.iters or (3 if small else 30)
    args.warmup = args.warmup if args.warmup is not None else (1 if small else 5)
    args.val_images = args.val_images or (8 if small else 2000)
    args.train_images = args.train_images or (6 if small else 256)
    args.budget_s = args.budget_s or (float('inf') if small else 420.0)
    if small and args.batch_size is None:
        args.batch_size = 2
    if small and args.workers is None:
        args.workers = 0
    if args.threads is None and small and not args.device.startswith('cuda'):
        args.threads = 1
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    if args.device.startswith('cuda'):
        import torch
        if not torch.cuda.is_available():
            print('device_check: --device cuda but torch sees no CUDA GPU', file=sys.stderr)
            return 2
    Path(args.work).mkdir(parents=True, exist_ok=True)
    args.data = str(Path(args.work) / 'synthetic_lip')
    models = REDUCED if small else FULL
    check = Check(args.budget_s)

    def wanted(name):
        return args.only is None or any(part in name for part in args.only)

    def step(name, func, *a, **k):
        return check.step(name, func, *a, **k) if wanted(name) or name in ('environment', 'data') else None

    step('environment', environment, args.device)
    if not step('data', make_data, args.data, args.train_images, args.val_images, max(4, args.val_images // 100)):
        return finish(check, args)
    trained = {}
    for name, (config, options) in models.items():
        result = step(f'train {name}', train_ours, name, config, options, args)
        if result:
            trained[name] = result['checkpoint']
    for name in ('hrnet_w32', 'ce2p_r101'):
        config, options = models[name]
        step(f'train {name} float32', train_ours, name, config, options, args, gpu_speed=False, suffix='_fp32')
        step(f'train {name} stock', train_stock, name, config, options, args)
    for name, flips in (('hrnet_w32', (True, False)), ('ce2p_r101', (True, False))):
        if name not in trained:
            continue
        config, options = models[name]
        for flip in flips:
            step(f'evaluate {name} flip={flip}', evaluate_ours, config, options, trained[name], args, flip)
        step(f'evaluate {name} stock', evaluate_stock, config, options, trained[name], args)
    if {'hrnet_w32', 'mspn', 'posefix'} <= set(trained):
        members = [(models[n][0], trained[n], 1.0) for n in ('hrnet_w32', 'mspn')]
        refiner = (models['posefix'][0], trained['posefix'])
        step('ensemble pose + posefix', ensemble_run, members, args, Path(args.work) / 'ensemble_pose.csv',
             refiner=refiner)
    if {'ce2p_r101', 'hrnetv2_w48'} <= set(trained):
        members = [(models[n][0], trained[n], 1.0) for n in ('ce2p_r101', 'hrnetv2_w48')]
        step('ensemble parsing', ensemble_run, members, args, Path(args.work) / 'ensemble_parsing')
    images = _test_images(args, 8)
    for name in ('hrnet_w32', 'ce2p_r101', 'ce2p_dcn_r101'):
        if name in trained:
            config, options = models[name]
            step(f'device vs cpu {name}', compare_devices, config, options, trained[name], args, images)
    return finish(check, args)


def finish(check, args):
    report = dict(args={k: v for k, v in vars(args).items()}, steps=check.steps, results=check.results,
                  seconds=round(time.perf_counter() - check.start, 1))
    text = json.dumps(report, indent=2, default=str)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    section = markdown(check, args)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(section)
    print(section)
    failed = check.failed
    print(f'[device-check] {len(check.steps) - len(failed)} steps ok, {len(failed)} failed or skipped, '
          f'{report["seconds"]} s', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
