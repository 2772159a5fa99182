"""ONNX Runtime against PyTorch eager on CPU: images per second of the same network, side by side, with parity.

For each model the checkpoint (random weights: speed does not depend on them) is exported with
``lip-toolkit export``'s API (which runs its own parity check), then both backends run the network call the
predictors make -- :class:`~lip_toolkit.parsing.inference.SegmentorNetwork` or
:func:`~lip_toolkit.pose.inference.network_outputs` in PyTorch eager under ``torch.no_grad``, and
:class:`~lip_toolkit.deploy.OnnxRuntimeNetwork` (tensor conversions included) -- on the same normalised batch of
real-looking images (synthetic LIP persons through the predictors' own test-time preprocessing), with the same
number of threads (``torch.set_num_threads`` and ONNX Runtime's ``intra_op_num_threads``).

Parsing models are also exported once per size with that fixed height and width (``lip-toolkit export --shape H
W``), which lets ONNX Runtime treat every shape as a constant; that file is timed beside the dynamic one (lines
``... onnxruntime fixed HxW ...`` and ``ratio ... ort-fixed/eager ...``).

Times are CPU seconds of this process (all threads): on a shared machine the wall clock measures the neighbours.
The backends alternate in interleaved rounds and each keeps its best round. Parity: the largest difference of
the batch-8 outputs and the argmax agreement (class per pixel; heatmap peak per joint).
Target: ONNX Runtime >= 1.3x eager, argmax agreement >= 99.9 %.

Models: CE2P-OCNet R-101 (configs/parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py) at 473x473 and
480x480 (one export with dynamic height and width, and one fixed-size export per size) and HRNet-W32 at 384x288, batches 1 and 8; ``--quick``: the tiny
demo models.

Run:
    python benchmarks/bench_onnx.py                  # full size, 1 thread, 2 rounds
    python benchmarks/bench_onnx.py --threads 2
    python benchmarks/bench_onnx.py --quick          # tiny demo models, seconds
"""
import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SPEEDUP = 1.3
TARGET_AGREEMENT = 0.999
# label: (config, input sizes (h, w))
FULL = {
    'parsing CE2P-OCNet R101': ('configs/parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py',
                                [(473, 473), (480, 480)]),
    'pose HRNet-W32': ('configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py', [(384, 288)]),
}
QUICK = {
    'parsing tiny CE2P': ('configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py', [(96, 96)]),
    'pose tiny HRNet': ('configs/demo/pose_hrnet-tiny_lip-128x96.py', [(128, 96)]),
}


def write_checkpoint(cfg, track: str, path: Path) -> Path:
    import torch

    from lip_toolkit.parsing.inference import build_parsing_model
    from lip_toolkit.pose.inference import build_pose_model
    torch.manual_seed(0)
    model = (build_pose_model if track == 'pose' else build_parsing_model)(cfg, None, 'cpu')
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def eager_network(cfg, track: str, checkpoint, size, images):
    """The PyTorch network call and its normalised input batch for ``images`` at ``size``."""
    import torch
    if track == 'parsing':
        from lip_toolkit.parsing.inference import ParsingLogitPredictor, build_parsing_model
        predictor = ParsingLogitPredictor(build_parsing_model(cfg, checkpoint, 'cpu'), input_size=size)
        return predictor.network, predictor.network_inputs(images)
    from lip_toolkit.pose.inference import PoseHeatmapPredictor, network_outputs
    predictor = PoseHeatmapPredictor.from_config(cfg, checkpoint, flip=False, device='cpu')
    with torch.no_grad():
        inputs = predictor.model_inputs(images)['inputs']
    return (lambda x: network_outputs(predictor.model, x)[0]), inputs


def timed(function, inputs):
    import torch
    start = time.process_time()
    with torch.no_grad():
        out = function(inputs)
    return time.process_time() - start, out


def parity(expected, got, track: str):
    expected, got = expected.float().numpy(), got.float().numpy()
    diff = float(np.abs(expected - got).max())
    if track == 'parsing':
        same = expected.argmax(1) == got.argmax(1)
    else:
        batch, joints = expected.shape[:2]
        same = expected.reshape(batch, joints, -1).argmax(-1) == got.reshape(batch, joints, -1).argmax(-1)
    return diff, float(np.abs(expected).max()), float(same.mean()), int(same.size)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', type=int, default=1, help='torch and ONNX Runtime intra-op threads')
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--rounds', type=int, default=2, help='interleaved rounds; the best of each is kept')
    parser.add_argument('--quick', action='store_true', help='the tiny demo models')
    parser.add_argument('--only', choices=['parsing', 'pose'], default=None, help='one track only')
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore')
    import torch

    from lip_toolkit.core.progress import set_quiet
    from lip_toolkit.core.runner import config_track, load_config
    from lip_toolkit.deploy import OnnxRuntimeNetwork, export_model
    from lip_toolkit.deploy.export import synthetic_sample
    set_quiet(True)
    torch.set_num_threads(args.threads)
    images = [synthetic_sample(seed)[0] for seed in range(max(args.batches))]
    print(f'CPU seconds of this process (all threads); torch and ONNX Runtime threads {args.threads}, CPUs '
          f'{os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; best of {args.rounds} interleaved rounds; '
          f'{len(images)} synthetic LIP persons; torch {torch.__version__}, onnxruntime '
          f'{__import__("onnxruntime").__version__}', flush=True)
    missed = False
    with tempfile.TemporaryDirectory() as work:
        for label, (config, sizes) in (QUICK if args.quick else FULL).items():
            if args.only and not label.startswith(args.only):
                continue
            cfg = load_config(config)
            track = config_track(cfg, config)
            checkpoint = write_checkpoint(cfg, track, Path(work) / 'weights.pth')
            onnx_path = Path(work) / f"{label.replace(' ', '_')}.onnx"
            report = export_model(config, checkpoint, onnx_path)
            print(f"{label}: exported in {report['seconds']} s (opset {report['opset']}, dynamic height/width "
                  f"{report['dynamic_hw']}); export parity max |diff| {report['parity']['max_abs_diff']:.2g}, "
                  f"argmax {100 * report['parity']['argmax_agreement']:.2f} %", flush=True)
            runtime = OnnxRuntimeNetwork(onnx_path, threads=args.threads)
            for size in sizes:
                eager, inputs = eager_network(cfg, track, checkpoint, size, images)
                name = f'{label} {size[0]}x{size[1]}'
                sides = {'eager': eager, 'ort': runtime}
                if track == 'parsing':
                    fixed_path = onnx_path.with_name(f'{onnx_path.stem}_{size[0]}x{size[1]}.onnx')
                    report = export_model(config, checkpoint, fixed_path, shape=size)
                    print(f"{name}: fixed-size export in {report['seconds']} s; export parity max |diff| "
                          f"{report['parity']['max_abs_diff']:.2g}, argmax "
                          f"{100 * report['parity']['argmax_agreement']:.2f} %", flush=True)
                    sides['ort_fixed'] = OnnxRuntimeNetwork(fixed_path, threads=args.threads)
                for function in sides.values():  # warm-up: first-call allocations, ORT's arena
                    timed(function, inputs[:1])
                for batch in args.batches:
                    x = inputs[:batch]
                    best = dict.fromkeys(sides, float('inf'))
                    outputs = {}
                    for _ in range(args.rounds):
                        for side, function in sides.items():
                            seconds, outputs[side] = timed(function, x)
                            best[side] = min(best[side], seconds)
                    for side in sides:
                        if side == 'eager':
                            continue
                        speedup = best['eager'] / best[side]
                        diff, scale, agreement, positions = parity(outputs['eager'], outputs[side], track)
                        ok = speedup >= TARGET_SPEEDUP and agreement >= TARGET_AGREEMENT
                        missed |= not ok
                        if side == 'ort':
                            print(f'{name:34s} batch {batch}: eager {batch / best["eager"]:6.2f} img/s | onnxruntime '
                                  f'{batch / best["ort"]:6.2f} img/s (per CPU second); max |diff| {diff:.2g} of '
                                  f'{scale:.3g}, argmax agreement {100 * agreement:.3f} % of {positions}')
                        else:
                            print(f'{name:34s} batch {batch}: onnxruntime fixed {size[0]}x{size[1]} '
                                  f'{batch / best[side]:6.2f} img/s (per CPU second); max |diff| {diff:.2g} of '
                                  f'{scale:.3g}, argmax agreement {100 * agreement:.3f} % of {positions}')
                        ratio = 'ort/eager' if side == 'ort' else 'ort-fixed/eager'
                        print(f'ratio {name} batch {batch}  {ratio}  {speedup:.2f}  '
                              f'({"meets" if ok else "MISSES"} the >= {TARGET_SPEEDUP}x, >= '
                              f'{100 * TARGET_AGREEMENT:g} % target)', flush=True)
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
