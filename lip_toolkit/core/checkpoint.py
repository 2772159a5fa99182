"""The one place lip-toolkit loads a checkpoint: ``torch.load(weights_only=True)`` plus a narrow allow-list.

A ``.pth`` file is a pickle, and a pickle can call any function while it loads. torch's ``weights_only=True``
unpickler only builds tensors, numbers, strings and containers; everything else must be allow-listed. mmengine's
full training checkpoints need a little more (see ``docs/checkpoints.md`` for the measured list and the reasons):

* numpy arrays, dtypes and scalars (dataset metainfo, message-hub history) in checkpoints written by plain
  mmengine / MMPose / MMSeg (the toolkit's own training saves them as plain data, see :class:`SafeCheckpointHook`);
* mmengine's ``HistoryBuffer`` (the message hub's loss / lr history). Its pickle stores its statistics methods as
  ``getattr(HistoryBuffer, 'mean')``. ``builtins.getattr`` itself is never allowed (it walks from any allowed
  object to any attribute, module globals included); that name is bound instead to
  :func:`_history_buffer_statistic`, which returns nothing but the four genuine ``HistoryBuffer`` statistics.
  The class name is bound to :class:`_LoadedHistoryBuffer`, which checks the state it is given and never touches
  the class-wide method table that the real ``HistoryBuffer.__setstate__`` updates.

The allow-list is active only inside our own ``torch.load`` call (:func:`_allow_listed`), never process-wide.
Checkpoints written by training runs that use :class:`SafeCheckpointHook` hold only plain data and tensors, so
``torch.load(weights_only=True)`` reads them with no allow-list; the allow-list and the restricted mapping exist for
checkpoints written by plain mmengine / MMPose / MMSeg.

Public API:
    safe_load(path, map_location='cpu') -> dict
    load_checkpoint(model, path, map_location='cpu', strict=True, revise_keys=...) -> dict
    install_mmengine_checkpoint_loader()   # mmengine's Runner.resume / load_from / init_cfg use safe_load
    SafeCheckpointHook                     # checkpoints saved as plain data; the runtime bases declare it as
                                           # default_hooks.safe_checkpoint, so host tools' runs use it too
"""
import contextlib
import os
import pickle
import re
import zipfile
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.registry import HOOKS

from .errors import LipToolkitError

DEFAULT_REVISE_KEYS = ((r'^module\.', ''),)

#: The statistics ``HistoryBuffer`` registers itself and pickles by name (``getattr(HistoryBuffer, name)``).
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'mean', 'current')

_HISTORY_BUFFER_PATH = 'mmengine.logging.history_buffer.HistoryBuffer'
# Marks a HistoryBuffer saved as plain data by SafeCheckpointHook.
_PLAIN_HISTORY_MARK = 'lip_toolkit.HistoryBuffer'
#: Key in a checkpoint's ``meta`` listing the numpy values SafeCheckpointHook saved as plain data.
NUMPY_RECORD_KEY = 'lip_toolkit_numpy'
_DOCS_HINT = 'see docs/checkpoints.md'


# --------------------------------------------------------------------------------------------------------------
# What a checkpoint may contain beyond torch's defaults
# --------------------------------------------------------------------------------------------------------------
def _history_buffer_statistic(owner, name):
    """Stands in for ``builtins.getattr`` while loading: only ``getattr(HistoryBuffer, <statistic>)`` resolves."""
    if owner is _LoadedHistoryBuffer and isinstance(name, str) and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    owner_name = 'HistoryBuffer' if owner is _LoadedHistoryBuffer else getattr(
        owner, '__qualname__', type(owner).__qualname__)
    raise pickle.UnpicklingError(
        f'checkpoint calls getattr({owner_name}, {name!r}); only getattr(HistoryBuffer, '
        f'{"|".join(HISTORY_BUFFER_STATISTICS)}) is allowed')


class _LoadedHistoryBuffer(HistoryBuffer):
    """What the name ``mmengine...HistoryBuffer`` means inside a checkpoint: validated data, nothing else.

    The real ``HistoryBuffer.__setstate__`` merges the pickled ``statistics_methods`` into the class-wide method
    table; a crafted file could put any allow-listed callable there. This one accepts only the genuine methods
    and sets only this instance's data. :func:`safe_load` replaces it by a genuine ``HistoryBuffer`` afterwards.
    """

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError('HistoryBuffer state is not a dict')
        unknown = set(state) - {'max_length', '_log_history', '_count_history', 'statistics_methods'}
        if unknown:
            raise pickle.UnpicklingError(f'HistoryBuffer state has unexpected fields {sorted(unknown)}')
        genuine = {getattr(HistoryBuffer, name) for name in HISTORY_BUFFER_STATISTICS}
        methods = state.get('statistics_methods', {})
        if not isinstance(methods, dict) or any(method not in genuine for method in methods.values()):
            raise pickle.UnpicklingError('HistoryBuffer state names statistics methods that are not its own')
        logs, counts = state.get('_log_history'), state.get('_count_history')
        max_length = state.get('max_length', 1000000)
        if not (isinstance(logs, np.ndarray) and isinstance(counts, np.ndarray) and logs.shape == counts.shape
                and logs.dtype.kind in 'biuf' and counts.dtype.kind in 'biuf' and isinstance(max_length, int)):
            raise pickle.UnpicklingError('HistoryBuffer state is not two equal-length numeric arrays')
        self.max_length = max_length
        self._log_history = logs
        self._count_history = counts


def _numpy_globals() -> List[Tuple[Any, str]]:
    """numpy arrays, dtypes and scalars, under the names numpy 1.x (``numpy.core``) and 2.x (``numpy._core``) use."""
    # The very functions numpy's own pickles call, whatever module numpy keeps them in (no deprecated import).
    _reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    entries = [(np.ndarray, 'numpy.ndarray'), (np.dtype, 'numpy.dtype')]
    for core in ('numpy.core', 'numpy._core'):
        entries += [(_reconstruct, f'{core}.multiarray._reconstruct'), (scalar, f'{core}.multiarray.scalar')]
    # numpy >= 1.25 has one class per dtype; newer numpy pickles dtypes through them.
    dtype_classes = getattr(np, 'dtypes', None)
    if dtype_classes is not None:
        for code in ('?', 'b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'e', 'f', 'd', 'g', 'F', 'D', 'G'):
            cls = type(np.dtype(code))
            if getattr(dtype_classes, cls.__name__, None) is cls:
                entries.append((cls, f'numpy.dtypes.{cls.__name__}'))
    return entries


def allowed_globals() -> List[Tuple[Any, str]]:
    """Everything :func:`safe_load` allows beyond torch's own weights-only set, as ``(object, pickled name)``."""
    return _numpy_globals() + [
        (_LoadedHistoryBuffer, _HISTORY_BUFFER_PATH),
        (_history_buffer_statistic, 'builtins.getattr'),
    ]


@contextlib.contextmanager
def _allow_listed() -> Iterator[None]:
    """Our allow-list, for the duration of one load only (torch's list is process-wide state)."""
    already = set(torch.serialization.get_safe_globals())
    ours = [entry for entry in allowed_globals() if entry not in already]
    # Someone else's process-wide entry for one of our names (e.g. the real getattr) would race with ours.
    bound = {name: obj for obj, name in allowed_globals()}
    for entry in already:
        obj, name = entry if isinstance(entry, tuple) else (entry, f'{entry.__module__}.{entry.__qualname__}')
        if name in bound and obj is not bound[name]:
            raise LipToolkitError(f'refusing to load checkpoints: {name} was allow-listed process-wide '
                                  f'(torch.serialization.add_safe_globals); {_DOCS_HINT}')
    with torch.serialization.safe_globals(ours):
        yield


# --------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------
# torch's messages for damaged or foreign files -> what the user should understand.
_DAMAGE = (
    (r'central directory|unexpected EOF|EOFError|Ran out of input|truncated',
     'truncated or corrupt checkpoint (the file ends early)'),
    (r'not in a subdirectory|failed locating file|archive does not contain|hasRecord',
     'a zip archive, but not a PyTorch checkpoint'),
    (r'TorchScript', 'a TorchScript archive, not a checkpoint (loading it would run its code)'),
    (r'Invalid magic number|invalid load key|Unsupported operand|KeyError|IndexError|could not find MARK|'
     r'unpickling stack',
     'not a PyTorch checkpoint file'),
)


def _refusal(reason: str) -> str:
    """One readable line from torch's multi-line weights-only or format message."""
    blocked = re.search(r'GLOBAL (\S+) whose module \S+ is blocked', reason)
    unknown = re.search(r'GLOBAL (\S+) was not an allowed global', reason)
    for match in (blocked, unknown):
        if match:
            name = match.group(1)
            name = name if '.' in name else f'builtins.{name}'
            return (f'refused to load: the checkpoint asks for {name}, which a checkpoint may not contain '
                    f'(unpickling it could run code; {_DOCS_HINT})')
    own = re.search(r'(checkpoint calls getattr[^\n]*|HistoryBuffer state[^\n]*)', reason)
    if own:
        return f'refused to load: {own.group(1)} ({_DOCS_HINT})'
    call = re.search(r'(Trying to call reduce for unrecognized function[^\n]*|Can only (?:create|build)[^\n]*)',
                     reason)
    if call:
        return f'refused to load: {call.group(1).strip()} ({_DOCS_HINT})'
    for pattern, meaning in _DAMAGE:
        if re.search(pattern, reason):
            return meaning
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    return f'not a readable checkpoint: {(lines[0] if lines else "unknown error")[:160]}'


def _describe_os_error(exc: OSError) -> str:
    return exc.strerror or str(exc)


def safe_load(path, map_location='cpu') -> dict:
    """Load a checkpoint file with ``weights_only=True`` and the allow-list above; return the dict it holds.

    Args:
        path: a local checkpoint file (``.pth``): a plain state dict, or a full mmengine training checkpoint.
        map_location: as for :func:`torch.load` (``'cpu'``, ``'cuda:0'``, a callable ...).

    Returns:
        The checkpoint as mmengine would see it: message-hub history comes back as real ``HistoryBuffer`` objects.

    Raises:
        LipToolkitError: one line naming the file when it is missing, unreadable, truncated, not a checkpoint,
            or asks for anything outside the allow-list (its pickle never runs that code).
    """
    path = Path(os.path.expanduser(str(path)))
    if not path.exists():
        raise LipToolkitError('checkpoint not found', path)
    if path.is_dir():
        raise LipToolkitError('is a folder, not a checkpoint file', path)
    try:
        if path.stat().st_size == 0:
            raise LipToolkitError('checkpoint file is empty', path)
        with _allow_listed():
            checkpoint = torch.load(str(path), map_location=map_location, weights_only=True)
    except LipToolkitError:
        raise
    except pickle.UnpicklingError as exc:
        raise LipToolkitError(_refusal(str(exc)), path) from None
    except OSError as exc:
        raise LipToolkitError(f'cannot read checkpoint: {_describe_os_error(exc)}', path) from None
    except (RuntimeError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            zipfile.BadZipFile, UnicodeDecodeError) as exc:
        # torch's own messages for truncated zips, bad magic numbers, foreign zips; may span lines.
        raise LipToolkitError(_refusal(f'{type(exc).__name__}: {exc}'), path) from None
    if not isinstance(checkpoint, dict):
        raise LipToolkitError(f'not a checkpoint: the file holds a {type(checkpoint).__name__}, not a dict', path)
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and NUMPY_RECORD_KEY in meta:
        try:
            checkpoint = restore_numpy(checkpoint, meta.pop(NUMPY_RECORD_KEY))
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise LipToolkitError(f"refused to load: malformed meta['{NUMPY_RECORD_KEY}'] ({exc})", path) from None
    _restore_history_buffers(checkpoint)
    return checkpoint


def _restore_history_buffers(checkpoint: dict) -> None:
    """Give mmengine's ``MessageHub.load_state_dict`` the ``HistoryBuffer`` objects it expects."""
    hub = checkpoint.get('message_hub')
    scalars = hub.get('log_scalars') if isinstance(hub, dict) else None
    if not isinstance(scalars, dict):
        return
    for key, value in list(scalars.items()):
        if isinstance(value, dict) and value.get('__class__') == _PLAIN_HISTORY_MARK:
            scalars[key] = HistoryBuffer(value['log_history'], value['count_history'], value['max_length'])
        elif isinstance(value, _LoadedHistoryBuffer):
            scalars[key] = HistoryBuffer(value._log_history, value._count_history, value.max_length)


def _state_dict_of(checkpoint: dict, path) -> dict:
    """The weights inside ``checkpoint``: its ``state_dict`` (mmengine, CE2P/SCHP), ``model``, or itself."""
    for key in ('state_dict', 'model'):
        candidate = checkpoint.get(key)
        if isinstance(candidate, dict) and any(torch.is_tensor(v) for v in candidate.values()):
            return candidate
    if any(torch.is_tensor(v) for v in checkpoint.values()):
        return checkpoint
    raise LipToolkitError(f'no model weights in the checkpoint (keys: {_sample(sorted(map(str, checkpoint)))})',
                          path)


def _sample(items: Sequence[str], limit: int = 3) -> str:
    shown = ', '.join(items[:limit])
    return shown + (f', ... ({len(items) - limit} more)' if len(items) > limit else '')


def state_dict_mismatch(model: torch.nn.Module, state_dict: dict) -> Dict[str, list]:
    """Keys the model lacks in ``state_dict`` (missing), extra ones (unexpected), and shape disagreements."""
    own = model.state_dict()
    missing = [key for key in own if key not in state_dict]
    unexpected = [key for key in state_dict if key not in own]
    shapes = [(key, tuple(state_dict[key].shape), tuple(own[key].shape)) for key in own
              if key in state_dict and torch.is_tensor(state_dict[key]) and state_dict[key].shape != own[key].shape]
    return dict(missing=missing, unexpected=unexpected, shape=shapes)


def _mismatch_line(model, mismatch: Dict[str, list]) -> str:
    parts = []
    if mismatch['missing']:
        parts.append(f"{len(mismatch['missing'])} weights missing ({_sample(mismatch['missing'])})")
    if mismatch['unexpected']:
        parts.append(f"{len(mismatch['unexpected'])} unexpected ({_sample(mismatch['unexpected'])})")
    if mismatch['shape']:
        shown = [f'{key} {ckpt} vs {mine}' for key, ckpt, mine in mismatch['shape']]
        parts.append(f"{len(shown)} with another shape (checkpoint vs model: {_sample(shown, 2)})")
    return f'checkpoint does not fit the model {type(model).__name__}: ' + '; '.join(parts)


#: What tells the two hosts' models apart by their weights: an MMSeg segmentor has a ``decode_head``, an MMPose
#: estimator a ``head`` (and no ``decode_head``).
TRACK_BY_WEIGHT_PREFIX = (('decode_head.', 'parsing'), ('head.', 'pose'))


def weights_track(keys) -> Optional[str]:
    """'parsing' or 'pose' for a state dict's keys (see :data:`TRACK_BY_WEIGHT_PREFIX`), None when neither."""
    keys = list(keys)
    for prefix, track in TRACK_BY_WEIGHT_PREFIX:
        if any(key.startswith(prefix) for key in keys):
            return track
    return None


def _wrong_track_line(model, state_dict) -> Optional[str]:
    """One line for a checkpoint of the other track (instead of hundreds of missing/unexpected weights)."""
    found, wanted = weights_track(state_dict), weights_track(model.state_dict())
    if found is None or wanted is None or found == wanted:
        return None
    return (f'this is a {found} checkpoint, but the config builds a {wanted} model ({type(model).__name__}); '
            f'give it a {found} config')


def load_checkpoint(model: torch.nn.Module, path, map_location='cpu', strict: bool = True,
                    revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS, logger=None) -> dict:
    """Load a checkpoint's weights into ``model`` through :func:`safe_load`.

    Args:
        model: the model (a DDP-wrapped model is unwrapped).
        path: checkpoint file.
        map_location: as for :func:`torch.load`.
        strict: refuse a checkpoint whose keys or shapes differ from the model's (one line listing a summary).
            When False, what matches is loaded and mmengine logs the rest; a checkpoint sharing no weight with
            the model is still refused.
        revise_keys: ``(pattern, replacement)`` regexes applied to the checkpoint's keys; by default the
            ``module.`` prefix of DataParallel checkpoints is stripped.
        logger: mmengine logger for non-strict mismatch warnings.

    Returns:
        The whole checkpoint dict (``meta``, ``state_dict`` ...), as mmengine's ``load_checkpoint`` does.
    """
    from mmengine.model import is_model_wrapper
    from mmengine.runner.checkpoint import load_state_dict

    checkpoint = safe_load(path, map_location=map_location)
    state_dict = _state_dict_of(checkpoint, path)
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, key), value) for key, value in state_dict.items())
    state_dict._metadata = metadata  # BN version info that _load_from_state_dict reads
    if is_model_wrapper(model):
        model = model.module
    mismatch = state_dict_mismatch(model, state_dict)
    wrong_track = _wrong_track_line(model, state_dict) if any(mismatch.values()) else None
    if wrong_track:
        raise LipToolkitError(wrong_track, path)
    if strict and any(mismatch.values()):
        raise LipToolkitError(_mismatch_line(model, mismatch), path)
    if not strict and len(mismatch['missing']) == len(model.state_dict()) and model.state_dict():
        raise LipToolkitError(_mismatch_line(model, mismatch) + ' (no weight in common)', path)
    try:
        load_state_dict(model, state_dict, strict=False, logger=logger)
    except RuntimeError as exc:  # a module's own _load_from_state_dict refusing a value
        raise LipToolkitError(f'cannot load weights: {str(exc).splitlines()[-1][:200]}', path) from None
    return checkpoint


# --------------------------------------------------------------------------------------------------------------
# mmengine: loading (Runner.resume, load_from, init_cfg Pretrained) and saving
# --------------------------------------------------------------------------------------------------------------
def load_from_local_safe(filename, map_location=None) -> dict:
    """mmengine ``CheckpointLoader`` handler for local paths (see :func:`install_mmengine_checkpoint_loader`)."""
    return safe_load(filename, map_location=map_location)


def _refuse_when_unsafe_env(loader):
    """Wrap a remote mmengine loader: torch's default is weights-only, unless the user's env turns it off."""
    if getattr(loader, '_lip_toolkit_guarded', False):
        return loader

    def guarded(filename, map_location=None, *args, **kwargs):
        if os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0').lower() in ('1', 'y', 'yes', 'true'):
            raise LipToolkitError('refused to load a remote checkpoint while TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD '
                                  f'is set (it would unpickle without restriction; {_DOCS_HINT})', filename)
        return loader(filename, map_location, *args, **kwargs)

    guarded.__name__ = loader.__name__  # mmengine logs the backend as __name__[10:]
    guarded._lip_toolkit_guarded = True
    guarded.__wrapped__ = loader
    return guarded


def install_mmengine_checkpoint_loader() -> None:
    """Make every local-file load in mmengine go through :func:`safe_load`. Idempotent; tightens, never loosens.

    mmengine's ``Runner.resume``, ``Runner.load_checkpoint`` (``load_from``), ``mmengine.runner.load_checkpoint``
    and ``init_cfg=dict(type='Pretrained')`` all read files through ``CheckpointLoader``; its handler for plain
    paths (prefix ``''``) is replaced by ours. Published names and URLs (``open-mmlab://``, ``torchvision://``,
    ``mmcls://``, ``http(s)://``) are downloaded into torch's hub cache and read by :func:`safe_load` too
    (:mod:`lip_toolkit.core.pretrained`: mmengine's own loader for them unpickles with ``weights_only=False``).
    Other remote schemes keep mmengine's loaders but refuse to run when ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
    would switch weights-only loading off.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    from .pretrained import PUBLISHED_PREFIXES, load_from_published
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if prefix != '':
            CheckpointLoader._schemes[prefix] = _refuse_when_unsafe_env(loader)
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    CheckpointLoader.register_scheme(prefixes=list(PUBLISHED_PREFIXES), loader=load_from_published, force=True)


def _plain_history(buffer: HistoryBuffer) -> dict:
    log_history, count_history = buffer.data
    return {'__class__': _PLAIN_HISTORY_MARK, 'log_history': log_history.tolist(),
            'count_history': count_history.tolist(), 'max_length': int(buffer.max_length)}


def to_plain_data(value, record: list, path: Tuple = ()):
    """``value`` with numpy arrays as nested lists, numpy scalars as Python numbers and ``HistoryBuffer`` objects
    as plain dicts, so that ``torch.load(weights_only=True)`` reads it with no allow-list at all.

    Containers holding something converted are rebuilt (the live objects, e.g. a dataset's metainfo, are left
    alone); others are returned as they are. Each numpy value converted is appended to ``record`` as
    ``(path, 'array' | 'scalar', dtype)``, which :func:`restore_numpy` uses to give back exactly what was saved.
    """
    if isinstance(value, HistoryBuffer):
        return _plain_history(value)
    if isinstance(value, np.ndarray):
        record.append((path, 'array', value.dtype.str))
        return value.tolist()
    if isinstance(value, np.generic):
        record.append((path, 'scalar', value.dtype.str))
        return value.item()
    if isinstance(value, dict) and type(value) in (dict, OrderedDict, Counter):
        items = {key: to_plain_data(item, record, path + (key, )) for key, item in value.items()}
        if all(items[key] is item for key, item in value.items()):
            return value
        return type(value)(items)
    if type(value) in (list, tuple):
        items = [to_plain_data(item, record, path + (index, )) for index, item in enumerate(value)]
        if all(new is old for new, old in zip(items, value)):
            return value
        return type(value)(items)
    return value


def make_plain(checkpoint: dict) -> dict:
    """Turn, in place, everything but ``state_dict`` into plain data with :func:`to_plain_data`, recording in
    ``meta['lip_toolkit_numpy']`` where numpy values were, so that :func:`safe_load` restores them. The one
    conversion every checkpoint the toolkit writes goes through (training saves, ``publish-model``)."""
    record: list = []
    for key in list(checkpoint):
        if key != 'state_dict':  # the weights are tensors already (and keep their _metadata)
            checkpoint[key] = to_plain_data(checkpoint[key], record, (key, ))
    if record:
        meta = checkpoint.get('meta')
        if not isinstance(meta, dict):
            meta = checkpoint['meta'] = {} if meta is None else {'meta': meta}
        meta[NUMPY_RECORD_KEY] = [(list(path), kind, dtype) for path, kind, dtype in record]
    return checkpoint


def restore_numpy(checkpoint: dict, record) -> dict:
    """Put back the numpy values :func:`to_plain_data` converted (``record`` lists where and of which dtype)."""
    by_path = {tuple(path): (kind, dtype) for path, kind, dtype in record}
    prefixes = {tuple(path[:length]) for path in by_path for length in range(len(path))}

    def rebuild(value, path):
        if path in by_path:
            kind, dtype = by_path[path]
            return np.array(value, dtype=np.dtype(dtype)) if kind == 'array' else np.dtype(dtype).type(value)
        if path not in prefixes:
            return value
        if isinstance(value, dict):
            return type(value)((key, rebuild(item, path + (key, ))) for key, item in value.items())
        if isinstance(value, (list, tuple)):
            return type(value)(rebuild(item, path + (index, )) for index, item in enumerate(value))
        return value

    return rebuild(checkpoint, ())


_SAFE_LEAVES = (type(None), bool, int, float, complex, str, bytes, bytearray, torch.Tensor, torch.device,
                torch.dtype, np.generic)


def unloadable_entries(value, where: str = 'checkpoint') -> List[str]:
    """Paths of entries :func:`safe_load` would refuse (e.g. ``meta.foo: MyClass``); empty when all is plain."""
    if isinstance(value, _SAFE_LEAVES):
        return []
    if isinstance(value, np.ndarray):
        return [] if value.dtype.kind != 'O' else unloadable_entries(value.tolist(), where)
    if isinstance(value, HistoryBuffer):
        return []
    if isinstance(value, dict) and type(value) in (dict, OrderedDict, Counter):
        found = []
        for key, item in value.items():
            found += unloadable_entries(key, where) + unloadable_entries(item, f'{where}.{key}')
        return found
    if type(value) in (list, tuple, set, torch.Size):
        return [entry for index, item in enumerate(value) for entry in unloadable_entries(item, f'{where}[{index}]')]
    return [f'{where}: {type(value).__module__}.{type(value).__qualname__}']


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Writes training checkpoints that a plain ``torch.load(path, weights_only=True)`` reads, no allow-list.

    Just before mmengine saves, everything but the weights goes through :func:`to_plain_data` (in the checkpoint
    dict only, not in the live hub or dataset): the message hub's ``HistoryBuffer`` objects and every numpy
    array or scalar (MMPose's dataset metainfo: ``sigmas``, colours, joint weights; the hub's ``eta``, best
    scores) become plain Python data, and ``meta['lip_toolkit_numpy']`` records where the numpy values were.
    :func:`safe_load` turns both back, so ``Runner.resume`` gets exactly what was saved (no "dataset metainfo is
    different" warning); MMPose's and MMSeg's own tools load the file as it is.
    It also warns, naming the entry, when anything else in the checkpoint would be refused at load time, so that
    a run learns at its first save, not at resume, that its checkpoints cannot be resumed safely.
    Lowest priority: it runs after every other hook has added what it adds to the checkpoint.
    The runtime bases (``configs/_base_/pose_runtime.py``, ``parsing_default_runtime.py``) declare it as
    ``default_hooks.safe_checkpoint``, so every run of a shipped config uses it, ``tools/train.py``'s included.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        make_plain(checkpoint)
        problems = unloadable_entries({k: v for k, v in checkpoint.items() if k != 'state_dict'})
        if problems:
            runner.logger.warning(
                f'this checkpoint holds types the safe loader refuses, so it cannot be resumed: '
                f'{_sample(problems, 5)} ({_DOCS_HINT})')
