"""Training on mmengine's Runner for both tracks, the way MMPose's and MMSeg's ``tools/train.py`` do it.

``merge_train_args`` applies the command-line flags to a config with the documented precedence
(CLI > value in the config > default derived from the file name), ``--cfg-options`` last. On CPU it also applies
the two measured workarounds that mmengine 0.10.7 needs for distributed runs (see :mod:`lip_toolkit.core.launch`).
"""
import contextlib
import os
import re
import uuid
from pathlib import Path
from typing import Optional, Sequence

from .errors import LipToolkitError
from .paths import resolve_config

TRACK_BY_SCOPE = {'mmpose': 'pose', 'mmseg': 'parsing'}


def load_config(path, cfg_options: Optional[dict] = None):
    """Read an mmengine config (``path`` or a path under ``configs/``) and apply ``cfg_options``."""
    from mmengine.config import Config
    resolved = resolve_config(path)
    try:
        cfg = Config.fromfile(str(resolved))
    except Exception as exc:  # syntax errors, missing _base_ files, bad custom_imports
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise LipToolkitError(f'cannot read config: {message}', resolved) from None
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def as_config(config, cfg_options: Optional[dict] = None):
    """A config path (or a path under ``configs/``) read with :func:`load_config`, or an mmengine ``Config``
    given directly (``cfg_options`` merged into it)."""
    from mmengine.config import Config
    if isinstance(config, Config):
        if cfg_options:
            config.merge_from_dict(cfg_options)
        return config
    return load_config(config, cfg_options)


def resolve_device(device: Optional[str]) -> str:
    """``device`` checked against the machine; ``None`` means CUDA when available, else CPU."""
    import torch
    if device is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise LipToolkitError(f'device {device!r} asked for, but no CUDA GPU is available')
    return str(device)


def config_track(cfg, path='config') -> str:
    """'pose' or 'parsing', from the config's ``default_scope``."""
    track = TRACK_BY_SCOPE.get(cfg.get('default_scope'))
    if track is None:
        raise LipToolkitError(
            f"default_scope must be 'mmpose' (pose) or 'mmseg' (parsing), got {cfg.get('default_scope')!r}", path)
    return track


def parse_cfg_options(items: Sequence[str]) -> dict:
    """``['a.b=1', 'c=[1,2]']`` -> dict, with mmengine's own ``DictAction`` value parsing."""
    from mmengine.config import DictAction
    options = {}
    for item in items:
        if '=' not in item:
            raise LipToolkitError(f'--cfg-options takes KEY=VALUE pairs, got {item!r}')
        key, value = item.split('=', 1)
        options[key] = DictAction._parse_iterable(value)
    return options


LIP_DATASET_TYPES = ('LIPPoseDataset', 'LIPParsingDataset')


def set_lip_data_root(cfg, data_root) -> int:
    """Point the LIP release datasets of the train/val/test dataloaders at ``data_root``; returns how many.

    The LIP release folder is the one the config's evaluation split reads (val, else test, else train); every
    LIP dataset reading that folder moves, inside wrappers too (``CombinedDataset``, ``ConcatDataset``...).
    Others keep their roots: COCO / AI Challenger, and multi-human crops that are ``LIPParsingDataset`` trees
    of their own (``data/cihp_lip``).
    """
    def lip_datasets(node):
        if isinstance(node, dict):
            if node.get('type') in LIP_DATASET_TYPES and node.get('data_root') is not None:
                yield node
            for key in ('dataset', 'datasets'):
                if key in node:
                    yield from lip_datasets(node[key])
        elif isinstance(node, (list, tuple)):
            for item in node:
                yield from lip_datasets(item)

    loaders = [cfg.get(name) for name in ('val_dataloader', 'test_dataloader', 'train_dataloader')]
    found = [list(lip_datasets(loader.get('dataset'))) if loader else [] for loader in loaders]
    release = next((datasets[0]['data_root'] for datasets in found if datasets), None)
    if release is None:
        raise LipToolkitError('--data-root: the config has no LIP dataset to point at it')
    moved = 0
    for datasets in found:
        for dataset in datasets:
            if dataset['data_root'] == release:
                dataset['data_root'] = str(data_root)
                moved += 1
    return moved


def add_tensorboard(cfg) -> None:
    """Log scalars to TensorBoard as well (mmengine's ``TensorboardVisBackend``, files under the work dir)."""
    import importlib.util
    if importlib.util.find_spec('tensorboard') is None:
        raise LipToolkitError('--tensorboard needs the tensorboard package: pip install tensorboard '
                              "(or pip install 'lip-toolkit[tensorboard]')")
    visualizer = cfg.setdefault('visualizer', dict(type='Visualizer'))
    backends = list(visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer['vis_backends'] = backends


def merge_train_args(cfg, config_path, work_dir=None, resume=False, amp=False, launcher='none',
                     auto_scale_lr=False, cfg_options=None, data_root=None, tensorboard=False, quiet=False,
                     gpu_speed=True):
    """Apply train flags to ``cfg`` in place and return it."""
    import torch
    from .gpu_speed import apply_gpu_speed
    if amp and not gpu_speed:
        raise LipToolkitError('--amp and --no-gpu-speed contradict each other (--no-gpu-speed turns mixed precision '
                              'off)')
    apply_gpu_speed(cfg, enabled=gpu_speed)
    if tensorboard:
        add_tensorboard(cfg)
    if quiet:
        cfg.log_level = 'WARNING'
    if data_root is not None:
        if not Path(data_root).is_dir():
            raise LipToolkitError('data root not found', data_root)
        set_lip_data_root(cfg, data_root)
    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    elif cfg.get('work_dir') is None:
        cfg.work_dir = str(Path('work_dirs') / Path(config_path).stem)
    cfg.launcher = launcher
    if cfg.get('visualizer') is not None:
        # mmengine's visualizers are process-wide singletons looked up by name, and MMPose/MMSeg call theirs
        # 'visualizer': a second training in one process (the demo trains five) logged its scalars into the
        # first run's folder (measured). A name of its own per run keeps each run's logs in its work_dir.
        cfg.visualizer.name = f'visualizer_{uuid.uuid4().hex}'
    if amp:
        if not torch.cuda.is_available():
            raise LipToolkitError('--amp needs a CUDA GPU (mixed precision is not supported on CPU)')
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'OptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if resume:
        # resume=True lets mmengine find the last checkpoint in work_dir; a path resumes from that file.
        if isinstance(resume, (str, os.PathLike)) and str(resume) != 'auto':
            if not Path(resume).is_file():
                raise LipToolkitError('checkpoint to resume from not found', resume)
            cfg.load_from = str(resume)
        else:
            cfg.load_from = None
        cfg.resume = True
    if auto_scale_lr:
        if cfg.get('auto_scale_lr') is None:
            raise LipToolkitError('--auto-scale-lr: the config has no auto_scale_lr.base_batch_size', config_path)
        cfg.auto_scale_lr.enable = True
    if launcher != 'none' and not torch.cuda.is_available():
        # mmengine wraps the model with device_ids=[LOCAL_RANK], which DDP refuses for CPU modules.
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                                     find_unused_parameters=cfg.get('find_unused_parameters', False))
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


@contextlib.contextmanager
def config_errors(config_path):
    """Turn the host libraries' errors about a config's content into one-line user errors."""
    try:
        yield
    except KeyError as exc:
        message = str(exc.args[0]) if exc.args else ''
        match = re.match(r'(\S+) is not in the (\S+) registry', message)
        if match is None:
            raise
        raise LipToolkitError(f'unknown type {match.group(1)!r} (not in the {match.group(2)} registry)',
                              config_path) from None
    except TypeError as exc:
        message = str(exc)
        if 'unexpected keyword argument' not in message and 'missing' not in message:
            raise
        raise LipToolkitError(f'invalid arguments: {message.splitlines()[0]}', config_path) from None


def _runner_class():
    """mmengine's Runner, with synchronised BN made to work on CPU process groups."""
    from mmengine.runner import Runner

    class LIPRunner(Runner):
        """Converts ``SyncBatchNorm`` to a gloo-capable version before DDP wraps a CPU model."""

        def wrap_model(self, model_wrapper_cfg, model):
            import torch
            from .sync_bn import convert_sync_bn_for_cpu, uses_sync_bn
            if self.distributed and not torch.cuda.is_available():
                if self.cfg.get('sync_bn'):
                    # mmengine would convert to torch's SyncBatchNorm, which refuses CPU tensors.
                    model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
                    self.cfg.sync_bn = None
                if uses_sync_bn(model):
                    model = convert_sync_bn_for_cpu(model)
            return super().wrap_model(model_wrapper_cfg, model)

    return LIPRunner


def build_runner(cfg):
    """Build the Runner (MMPose's or MMSeg's registry scope) with our safe checkpoint loading."""
    from .checkpoint import install_mmengine_checkpoint_loader, make_runner_checkpoints_safe
    from .launch import init_distributed
    install_mmengine_checkpoint_loader()
    init_distributed(cfg.get('launcher', 'none'), cfg.get('env_cfg', {}).get('dist_cfg', {}))
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        runner = _runner_class().from_cfg(cfg)
    # Loads (resume, load_from, Pretrained) go through the safe loader; saves hold no pickled callables.
    make_runner_checkpoints_safe(runner)
    return runner


def train(config, work_dir=None, resume=False, amp=False, cfg_options=None, launcher='none',
          auto_scale_lr=False, data_root=None, tensorboard=False, quiet=False, gpu_speed=True) -> Path:
    """Train ``config`` and return its work dir (holding logs and checkpoints).

    Args:
        config: config path (or a path under the repository's ``configs/``).
        work_dir: where logs and checkpoints go; default ``work_dirs/<config name>``.
        resume: ``True``/``'auto'`` resumes from the last checkpoint in ``work_dir``; a path resumes from it.
        amp: mixed precision (GPU only).
        cfg_options: dict of ``key.path: value`` overrides, applied last.
        launcher: ``'none'``, ``'pytorch'`` (under torchrun) or ``'slurm'`` (under srun).
        auto_scale_lr: scale the learning rate with the total batch size (mmengine's ``auto_scale_lr``).
        data_root: LIP release folder for the config's LIP datasets (see :func:`set_lip_data_root`).
        tensorboard: also log to TensorBoard (needs the ``tensorboard`` package).
        quiet: log warnings only on the console (the work dir's log file keeps everything).
        gpu_speed: keep the config's GPU speed settings (mixed precision, cudnn benchmark, pinned memory; inert on
            a CPU); ``False`` turns them off (:func:`lip_toolkit.core.gpu_speed.apply_gpu_speed`, docs/gpu.md).
    """
    cfg = load_config(config)
    config_track(cfg, config)
    merge_train_args(cfg, config, work_dir=work_dir, resume=resume, amp=amp, launcher=launcher,
                     auto_scale_lr=auto_scale_lr, cfg_options=cfg_options, data_root=data_root,
                     tensorboard=tensorboard, quiet=quiet, gpu_speed=gpu_speed)
    with config_errors(config):
        runner = build_runner(cfg)
        runner.train()
    return Path(cfg.work_dir)
