"""Training on mmengine's Runner for both tracks, the way MMPose's and MMSeg's ``tools/train.py`` do it.

``merge_train_args`` applies the command-line flags to a config with the documented precedence
(CLI > value in the config > default derived from the file name), ``--cfg-options`` last. On CPU it also applies
the two measured workarounds that mmengine 0.10.7 needs for distributed runs (see :mod:`lip_toolkit.core.launch`).
"""
import contextlib
import difflib
import inspect
import os
import re
import uuid
import warnings
from pathlib import Path
from typing import Optional, Sequence

from .errors import LipToolkitError
from .paths import resolve_config

TRACK_BY_SCOPE = {'mmpose': 'pose', 'mmseg': 'parsing'}


def load_config(path, cfg_options: Optional[dict] = None):
    """Read an mmengine config (``path`` or a path under ``configs/``) and apply ``cfg_options``."""
    from mmengine.config import Config
    from .logs import screen_mmengine_logs
    screen_mmengine_logs()  # mmengine's notices outside a training: log file / --verbose only
    resolved = resolve_config(path)
    try:
        cfg = Config.fromfile(str(resolved))
    except Exception as exc:  # syntax errors, missing _base_ files, bad custom_imports
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise LipToolkitError(f'cannot read config: {message}', resolved) from None
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg


def as_config(config, cfg_options: Optional[dict] = None):
    """A config path (or a path under ``configs/``) read with :func:`load_config`, or an mmengine ``Config``
    given directly (``cfg_options`` merged into it)."""
    from mmengine.config import Config
    if isinstance(config, Config):
        if cfg_options:
            check_cfg_options(config, cfg_options)
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


# Top-level keys mmengine's Runner reads beyond its own arguments (``Runner.__init__``): a config may lack them.
RUNNER_EXTRA_KEYS = ('model_wrapper_cfg', 'sync_bn', 'runner_type', 'custom_imports', 'find_unused_parameters')
# Dicts without ``type`` whose keys the host passes on to something with a known signature, or reads freely.
ENV_CFG_KEYS = ('cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit')
MP_CFG_KEYS = ('mp_start_method', 'opencv_num_threads')
AUTO_SCALE_LR_KEYS = ('enable', 'base_batch_size')
# ``model.test_cfg`` is read key by key: by MMPose's estimators and heads, MMSeg's segmentors, and the toolkit's
# parsing inference (flip, warp, resize_in, input_size, keep_ratio).
MODEL_TEST_CFG_KEYS = {
    'mmpose': ('flip_test', 'flip_mode', 'shift_heatmap', 'shift_coords', 'output_heatmaps',
               'output_keypoint_indices', 'blur_kernel_size', 'align_corners', 'restore_heatmap_size',
               'multiscale_test', 'score_threshold', 'nms_dist_thr', 'nms_joints_thr', 'max_instances',
               'max_num_people', 'input_size'),
    'mmseg': ('mode', 'crop_size', 'stride', 'flip', 'warp', 'resize_in', 'input_size', 'keep_ratio'),
}
ANY_KEY = None


def check_cfg_options(cfg, options: dict, what: str = '--cfg-options') -> None:
    """Refuse override keys that name nothing in ``cfg``, with a did-you-mean, before anything is built.

    The rule (docs/conventions.md, "Config overrides"): every part of ``a.b.c`` must exist in the config at its level
    (a dict key, or a list index as in mmengine's ``a.0.b``), except that a part may add a new entry where the
    host takes one:

    * ``_delete_``, and anything under a dict given ``_delete_=True`` in the same overrides (written anew);
    * an argument of a component (a dict with ``type``): a name its class's ``__init__`` takes (any name when
      it takes ``**kwargs`` or the class cannot be found);
    * an argument of what mmengine builds from a dict without ``type``: the Runner (top level), the train/val/test
      loops (``train_cfg``...), torch's ``DataLoader`` (``*_dataloader``), ``randomness``, ``env_cfg``,
      ``auto_scale_lr``; the keys MMPose/MMSeg read from ``model.test_cfg``; any name in ``default_hooks`` (a new
      hook) and ``env_cfg.dist_cfg``.

    Below a new entry nothing is checked: it is written as given.
    """
    rewritten = [key[:-len('._delete_')] for key, value in options.items()
                 if key.endswith('._delete_') and value]
    for key in options:
        parts = key.split('.')
        node, path = cfg._cfg_dict if hasattr(cfg, '_cfg_dict') else cfg, []
        for part in parts:
            where = '.'.join(path) or 'the top level'
            if any('.'.join(path) == prefix or '.'.join(path).startswith(prefix + '.') for prefix in rewritten):
                break  # this dict is written anew (``_delete_``)
            if isinstance(node, (list, tuple)):
                if not node:
                    raise LipToolkitError(f'{what} {key}: {where} is an empty list (give the whole list: '
                                          f'{where}="[...]")')
                if not part.isdigit() or int(part) >= len(node):
                    raise LipToolkitError(f'{what} {key}: {where} is a list of {len(node)}; '
                                          f'give an index 0-{len(node) - 1} (as in {where}.0.type=...)')
                node, path = node[int(part)], path + [part]
                continue
            if not isinstance(node, dict):
                raise LipToolkitError(f'{what} {key}: {where} is a value ({type(node).__name__}), not a dict')
            if part == '_delete_' or part in node:
                if part == '_delete_':
                    break
                node, path = node[part], path + [part]
                continue
            allowed = _new_keys_allowed(cfg, path, node)
            if allowed is ANY_KEY or part in allowed:
                break  # a new entry: written as given
            known = sorted({str(k) for k in node} | set(allowed))
            close = difflib.get_close_matches(part, known, n=1, cutoff=0.6)
            hint = f' (did you mean {".".join(path + [close[0]])}?)' if close else ''
            if not path and part == 'data_root':
                hint = ' (the LIP folder is given with --data-root)'
            raise LipToolkitError(f'{what} {key}: the config has no {part!r} at {where}{hint}')


def _new_keys_allowed(cfg, path, node):
    """Names a dict at ``path`` may gain (see :func:`check_cfg_options`): a set, or ``ANY_KEY``."""
    if 'type' in node:
        return _init_parameters(_registered_class(cfg, node['type']))
    if not path:
        from mmengine.runner import Runner
        return set(inspect.signature(Runner).parameters) - {'cfg'} | set(RUNNER_EXTRA_KEYS)
    if len(path) == 1:
        name = path[0]
        if name == 'train_cfg':
            from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
            loop = EpochBasedTrainLoop if node.get('by_epoch', True) else IterBasedTrainLoop
            return _init_parameters(loop) | {'by_epoch'}
        if name in ('val_cfg', 'test_cfg'):
            from mmengine.runner import TestLoop, ValLoop
            return _init_parameters(ValLoop if name == 'val_cfg' else TestLoop)
        if name.endswith('_dataloader'):
            from torch.utils.data import DataLoader
            return _init_parameters(DataLoader)
        if name == 'randomness':
            from mmengine.runner import set_random_seed
            return _init_parameters(set_random_seed)
        if name == 'default_hooks':
            return ANY_KEY
        if name == 'env_cfg':
            return set(ENV_CFG_KEYS)
        if name == 'auto_scale_lr':
            return set(AUTO_SCALE_LR_KEYS)
    if path == ['model', 'test_cfg']:
        return set(MODEL_TEST_CFG_KEYS.get(cfg.get('default_scope'), ()))
    if path == ['env_cfg', 'dist_cfg']:
        return ANY_KEY
    if path == ['env_cfg', 'mp_cfg']:
        return set(MP_CFG_KEYS)
    return set()


def _registered_class(cfg, type_name):
    """The class (or function) a ``type`` names in the config's scope, or None when it cannot be found."""
    if callable(type_name):
        return type_name
    import importlib
    from mmengine.registry import Registry
    scope = cfg.get('default_scope') or 'mmengine'
    try:
        registry_module = importlib.import_module(f'{scope}.registry')
    except ImportError:
        return None
    for name in dir(registry_module):
        registry = getattr(registry_module, name)
        if isinstance(registry, Registry):
            try:
                found = registry.get(str(type_name))
            except Exception:  # a registry whose lazy imports fail says nothing about this key
                found = None
            if found is not None:
                return found
    return None


def _init_parameters(target):
    """Keyword names ``target`` (a class or function) takes; ``ANY_KEY`` for ``**kwargs`` or an unknown target."""
    if target is None:
        return ANY_KEY
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return ANY_KEY
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return ANY_KEY
    return {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {'self'}


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


def dataset_configs(node):
    """Every dataset dict in a dataset config, each before the ones it wraps (``dataset`` / ``datasets`` of
    wrappers such as ``CombinedDataset`` or ``ConcatDataset``, and lists of them)."""
    if isinstance(node, dict):
        yield node
        for key in ('dataset', 'datasets'):
            if key in node:
                yield from dataset_configs(node[key])
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from dataset_configs(item)


def set_lip_data_root(cfg, data_root) -> int:
    """Point the LIP release datasets of the train/val/test dataloaders at ``data_root``; returns how many.

    The LIP release folder is the one the config's evaluation split reads (val, else test, else train); every
    LIP dataset reading that folder moves, inside wrappers too (``CombinedDataset``, ``ConcatDataset``...).
    Others keep their roots: COCO / AI Challenger, and multi-human crops that are ``LIPParsingDataset`` trees
    of their own (``data/cihp_lip``).
    """
    def lip_datasets(node):
        return (dataset for dataset in dataset_configs(node)
                if dataset.get('type') in LIP_DATASET_TYPES and dataset.get('data_root') is not None)

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
                     auto_scale_lr=False, cfg_options=None, data_root=None, tensorboard=False, gpu_speed=True):
    """Apply train flags to ``cfg`` in place and return it."""
    import torch
    from .gpu_speed import apply_gpu_speed
    if cfg_options:
        check_cfg_options(cfg, cfg_options)  # before anything is changed, built or written
    if amp and not gpu_speed:
        raise LipToolkitError('--amp and --no-gpu-speed contradict each other (--no-gpu-speed turns mixed precision '
                              'off)')
    apply_gpu_speed(cfg, enabled=gpu_speed)
    if tensorboard:
        add_tensorboard(cfg)
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
        """Converts ``SyncBatchNorm`` to a gloo-capable version before DDP wraps a CPU model; keeps the screen
        quiet (:mod:`lip_toolkit.core.logs`) while the log file gets everything."""

        def build_logger(self, *args, **kwargs):
            from .logs import screen_mmengine_logs
            logger = super().build_logger(*args, **kwargs)
            screen_mmengine_logs(logger)  # before the Runner logs its environment, config and hook table
            return logger

        def load_checkpoint(self, *args, **kwargs):
            from .logs import prints_to_log
            with prints_to_log(self.logger):  # mmengine print()s "Loads checkpoint by ..." (resume, load_from)
                return super().load_checkpoint(*args, **kwargs)

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
    """Build the Runner (MMPose's or MMSeg's registry scope) with our safe checkpoint loading.

    Loads (resume, load_from, Pretrained) go through the safe loader. Saving as plain data is the config's
    ``default_hooks.safe_checkpoint`` (the runtime bases declare it, so host tools get it too); a config without
    it is warned about, not patched, so that a run saves the same way whichever tool starts it.
    """
    from .checkpoint import SafeCheckpointHook, install_mmengine_checkpoint_loader
    from .launch import init_distributed
    install_mmengine_checkpoint_loader()
    init_distributed(cfg.get('launcher', 'none'), cfg.get('env_cfg', {}).get('dist_cfg', {}))
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        runner = _runner_class().from_cfg(cfg)
    if not any(isinstance(hook, SafeCheckpointHook) for hook in runner.hooks):
        warnings.warn(f'{cfg.filename or "the config"} declares no SafeCheckpointHook: its checkpoints will hold '
                      f"numpy objects that torch's weights-only loading refuses (add "
                      f"default_hooks = dict(safe_checkpoint=dict(type='SafeCheckpointHook')); "
                      f'docs/checkpoints.md)', stacklevel=2)
    return runner


RUN_RECORD = 'lip_toolkit_train.json'
# What a work dir remembers of the training that started it, so that ``--resume`` needs no repeated options.
# Each with its default: a resume takes the recorded value of every option left at its default.
RECORDED_OPTIONS = {'data_root': None, 'cfg_options': None, 'amp': False, 'auto_scale_lr': False,
                    'tensorboard': False, 'gpu_speed': True}


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`: where the training stands, for the resume command the CLI prints.

    Attributes:
        work_dir: the training's work dir.
        checkpoint: the last checkpoint saved there (``None``: nothing saved yet).
        main_process: rank 0 (the one that reports).
    """

    def __init__(self, work_dir: Path, checkpoint: Optional[Path], main_process: bool = True):
        super().__init__(f'training interrupted; last checkpoint: {checkpoint or "none"}')
        self.work_dir = work_dir
        self.checkpoint = checkpoint
        self.main_process = main_process


def last_checkpoint(work_dir) -> Optional[Path]:
    """The checkpoint mmengine's ``last_checkpoint`` file in ``work_dir`` names, if that file still exists."""
    marker = Path(work_dir) / 'last_checkpoint'
    if not marker.is_file():
        return None
    named = Path(marker.read_text().strip())
    if not named.is_absolute():
        named = Path(work_dir) / named
    return named if named.is_file() else None


def read_run_record(work_dir) -> Optional[dict]:
    """The options a training in ``work_dir`` was started with (see :data:`RECORDED_OPTIONS`), or None."""
    import ast
    import json
    path = Path(work_dir) / RUN_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding='utf-8'))
        record['cfg_options'] = ast.literal_eval(record['cfg_options']) if record.get('cfg_options') else None
    except (ValueError, SyntaxError, KeyError, TypeError):
        raise LipToolkitError('unreadable record of the training (delete it, and give the options again)',
                              path) from None
    return record


def _write_run_record(work_dir: Path, config, options: dict) -> None:
    import ast
    import json
    from .io import atomic_write
    record = {'config': str(config), 'config_file': str(resolve_config(config).resolve())}
    record.update({name: options.get(name) for name in RECORDED_OPTIONS})
    if record['data_root'] is not None:
        record['data_root'] = str(Path(record['data_root']).resolve())
    overrides = record['cfg_options']
    # repr keeps tuples as tuples (JSON would turn them into lists); values are Python literals, as parsed.
    text = repr(dict(overrides)) if overrides else None
    try:
        ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        text = None  # an API caller's object that is no literal: not remembered
    record['cfg_options'] = text
    with atomic_write(work_dir / RUN_RECORD, encoding='utf-8') as handle:
        json.dump(record, handle, indent=2)


def _is_main_process(launcher: str) -> bool:
    """Rank 0 of a launch, known before the process group exists (only it checks and changes the work dir)."""
    variable = {'pytorch': 'RANK', 'slurm': 'SLURM_PROCID'}.get(launcher)
    return variable is None or int(os.environ.get(variable, '0')) == 0


def _prepare_work_dir(config, work_dir: Path, resume, overwrite: bool, options: dict) -> dict:
    """Apply the work-dir rule and return the options to train with (a resume brings back the recorded ones)."""
    holds_files = work_dir.is_dir() and any(work_dir.iterdir())
    if work_dir.exists() and not work_dir.is_dir():
        raise LipToolkitError('work dir is a file', work_dir)
    if resume and overwrite:
        raise LipToolkitError('--resume continues the training in the work dir, --overwrite discards it: not both')
    if not resume:
        if holds_files and not overwrite:
            raise LipToolkitError('work dir already holds a training: add --resume to continue it, or --overwrite '
                                  'to start again (or choose another --work-dir)', work_dir)
        return options
    if resume is True or str(resume) == 'auto':
        if last_checkpoint(work_dir) is None:
            raise LipToolkitError('no checkpoint to resume from (train without --resume, or with --overwrite to '
                                  'start again)', work_dir)
    record = read_run_record(work_dir) if work_dir.is_dir() else None
    if record is None:
        return options
    recorded_file = Path(record['config_file'])
    if recorded_file != resolve_config(config).resolve():
        raise LipToolkitError(f'this work dir was started with {record["config"]}; resume it with that config',
                              work_dir)
    merged = dict(options)
    for name, default in RECORDED_OPTIONS.items():
        if name == 'cfg_options':
            merged[name] = {**(record.get(name) or {}), **(options.get(name) or {})} or None
        elif options.get(name, default) == default and name in record:
            merged[name] = record[name]
    return merged


def _remove_new_entries(work_dir: Path, before: Optional[set]) -> None:
    """Remove what this run added to ``work_dir`` (all of it when it did not exist)."""
    import shutil
    if before is None:
        shutil.rmtree(work_dir, ignore_errors=True)
        return
    for entry in work_dir.iterdir() if work_dir.is_dir() else ():
        if entry.name not in before:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def train(config, work_dir=None, resume=False, overwrite=False, amp=False, cfg_options=None, launcher='none',
          auto_scale_lr=False, data_root=None, tensorboard=False, quiet=False, gpu_speed=True) -> Path:
    """Train ``config`` and return its work dir (holding logs and checkpoints).

    The work dir rule (docs/distributed.md, "Interrupting and resuming"): a work dir that holds files is trained
    into only with ``resume`` (continue) or ``overwrite`` (start again; the old content is swapped out once the
    new run is set up). A new training records its options in ``<work_dir>/lip_toolkit_train.json``; ``resume``
    brings back those not given again. A failure or Ctrl-C before the first iteration leaves the work dir as it
    was; Ctrl-C later raises :class:`TrainingInterrupted` naming the last checkpoint.

    Args:
        config: config path (or a path under the repository's ``configs/``).
        work_dir: where logs and checkpoints go; default ``work_dirs/<config name>``.
        resume: ``True``/``'auto'`` resumes from the last checkpoint in ``work_dir`` (an error when there is
            none); a path resumes from that checkpoint.
        overwrite: start again in a ``work_dir`` that holds an earlier training (its content is deleted).
        amp: mixed precision (GPU only).
        cfg_options: dict of ``key.path: value`` overrides, applied last (keys checked, see
            :func:`check_cfg_options`).
        launcher: ``'none'``, ``'pytorch'`` (under torchrun) or ``'slurm'`` (under srun).
        auto_scale_lr: scale the learning rate with the total batch size (mmengine's ``auto_scale_lr``).
        data_root: LIP release folder for the config's LIP datasets (see :func:`set_lip_data_root`).
        tensorboard: also log to TensorBoard (needs the ``tensorboard`` package).
        quiet: nothing on the screen but errors, not even the progress lines (the log file keeps everything).
        gpu_speed: keep the config's GPU speed settings (mixed precision, cudnn benchmark, pinned memory; inert on
            a CPU); ``False`` turns them off (:func:`lip_toolkit.core.gpu_speed.apply_gpu_speed`, docs/gpu.md).
    """
    import shutil
    cfg = load_config(config)
    config_track(cfg, config)
    options = dict(data_root=data_root, cfg_options=cfg_options, amp=amp, auto_scale_lr=auto_scale_lr,
                   tensorboard=tensorboard, gpu_speed=gpu_speed)
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
    target = Path(work_dir) if work_dir is not None else Path(
        (cfg_options or {}).get('work_dir') or cfg.get('work_dir') or Path('work_dirs') / Path(str(config)).stem)
    main = _is_main_process(launcher)
    if main:
        options = _prepare_work_dir(config, target, resume, overwrite, options)
    elif resume:
        options = _prepare_work_dir(config, target, resume, False, options)
    merge_train_args(cfg, config, work_dir=work_dir, resume=resume, launcher=launcher, **options)
    work = Path(cfg.work_dir)
    before = aside = None
    if main:
        if overwrite and work.is_dir() and any(work.iterdir()):
            aside = work.with_name(f'.{work.name}.replaced-{os.getpid()}')
            os.replace(work, aside)  # brought back if this run fails before its first iteration
        before = {entry.name for entry in work.iterdir()} if work.is_dir() else None
        work.mkdir(parents=True, exist_ok=True)
        _write_run_record(work, config, options)
    runner = None
    from .progress import is_quiet, set_quiet
    quiet_before = is_quiet()
    set_quiet(quiet or quiet_before)
    try:
        with config_errors(config):
            runner = build_runner(cfg)
            if aside is not None:
                runner.register_hook(_after_first_iteration(lambda: shutil.rmtree(aside, ignore_errors=True)),
                                     priority='VERY_LOW')
            runner.train()
    except BaseException as exc:
        started = runner is not None and runner.iter > 0
        if main and not started:
            _remove_new_entries(work, before)
            if aside is not None:
                shutil.rmtree(work, ignore_errors=True)
                os.replace(aside, work)
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, TrainingInterrupted):
            raise TrainingInterrupted(work, last_checkpoint(work), main) from None
        raise
    finally:
        set_quiet(quiet_before)
    return work


def _after_first_iteration(action):
    """An mmengine hook that runs ``action`` once, when the first training iteration is done."""
    from mmengine.hooks import Hook

    class AfterFirstIteration(Hook):
        def __init__(self):
            self.pending = action

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if self.pending is not None:
                pending, self.pending = self.pending, None
                pending()

    return AfterFirstIteration()
