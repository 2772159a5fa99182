"""Ensemble specifications: which members (config, checkpoint, weight), how they are combined, what refines.

An ensemble is described by a file (an mmengine-style ``.py``, or ``.json`` / ``.yaml``: mmengine reads all
three) or by command-line members; both give the same :class:`EnsembleSpec`. A ``.py`` file looks like::

    track = 'parsing'            # 'pose' or 'parsing'; default: from the members' configs
    average = 'logits'           # parsing: 'logits' or 'softmax' (per-member class probabilities)
    flip = True                  # flip test for every member (parsing: with the left/right channel swap)
    scales = (0.75, 1.0, 1.25)   # parsing: test scales (factors on each member's input size)
    members = [
        dict(config='parsing/ce2p/CONFIG.py', checkpoint='work_dirs/ce2p/epoch_150.pth', weight=1.0),
        dict(config='parsing/hrnet/CONFIG.py', checkpoint='work_dirs/hrnet/epoch_150.pth', weight=1.0,
             flip=True, scales=(1.0,), name='hrnet'),   # per-member flip/scales/name/cfg_options are optional
    ]
    refiner = dict(config='pose/posefix/CONFIG.py', checkpoint='posefix.pth')   # pose only, optional

Paths: a member ``config`` is a path or a path under the repository's ``configs/`` (as every command takes
it); a relative ``checkpoint`` is looked up from the current folder first, then from the ensemble file's
folder. Weights are normalised to sum to 1; a weight may be 0 (the member is still scored, it does not vote).
"""
import dataclasses
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

from .core.errors import LipToolkitError
from .evaluation import parse_scales

PathLike = Union[str, os.PathLike]

TRACKS = ('pose', 'parsing')
AVERAGES = ('logits', 'softmax')
_FILE_KEYS = {'track', 'average', 'flip', 'scales', 'members', 'refiner'}
_MEMBER_KEYS = {'config', 'checkpoint', 'weight', 'name', 'flip', 'scales', 'cfg_options'}
# Keys mmengine adds to every config it reads (or that files commonly carry); they are not ensemble settings.
_IGNORED_KEYS = {'filename', 'text', 'pretty_text', 'custom_imports', 'default_scope', '_base_'}


@dataclasses.dataclass
class EnsembleMember:
    """One model of an ensemble.

    Attributes:
        config: the member's config file (path, or a path under ``configs/``).
        checkpoint: its weights.
        weight: its share of the average (normalised over the members).
        name: label in the score table; default the config file's name.
        flip: flip test for this member; ``None`` takes the ensemble's.
        scales: parsing test scales for this member; ``None`` takes the ensemble's.
        cfg_options: overrides applied to this member's config.
    """

    config: str
    checkpoint: str
    weight: float = 1.0
    name: str = ''
    flip: Optional[bool] = None
    scales: Optional[Tuple[float, ...]] = None
    cfg_options: Optional[dict] = None

    def __post_init__(self):
        if not self.name:
            self.name = Path(str(self.config)).stem


@dataclasses.dataclass
class EnsembleSpec:
    """A complete ensemble: members, their combination and the optional pose refiner.

    Attributes:
        track: ``'pose'`` or ``'parsing'``.
        members: the models, at least one.
        average: parsing only: average raw ``'logits'`` or class probabilities (``'softmax'``).
        flip: flip test for members that do not set their own.
        scales: parsing test scales for members that do not set their own.
        refiner: pose only: a PoseFix member that refines the ensemble's decoded joints.
        source: the file the spec was read from, if any.
    """

    track: str
    members: List[EnsembleMember]
    average: str = 'logits'
    flip: Optional[bool] = None
    scales: Tuple[float, ...] = (1.0,)
    refiner: Optional[EnsembleMember] = None
    source: Optional[str] = None

    def normalised_weights(self) -> List[float]:
        """Member weights divided by their sum (one member alone gets exactly 1.0)."""
        total = sum(m.weight for m in self.members)
        return [m.weight / total for m in self.members]

    def member_flip(self, member: EnsembleMember) -> bool:
        """The flip setting a member runs with: its own, else the ensemble's, else the track's default."""
        if member.flip is not None:
            return bool(member.flip)
        if self.flip is not None:
            return bool(self.flip)
        return self.track == 'pose'  # as `evaluate`: flip test on for pose, off for parsing

    def member_scales(self, member: EnsembleMember) -> Tuple[float, ...]:
        return tuple(member.scales) if member.scales is not None else tuple(self.scales)


def _where(source) -> str:
    return str(source) if source is not None else 'ensemble'


def _resolve_checkpoint(checkpoint: str, base_dir: Optional[Path]) -> str:
    path = Path(os.path.expanduser(str(checkpoint)))
    if path.is_absolute() or path.exists() or base_dir is None:
        return str(path)
    beside = base_dir / path
    return str(beside) if beside.exists() else str(path)


def make_member(entry, source=None, base_dir: Optional[Path] = None, what: str = 'member') -> EnsembleMember:
    """An :class:`EnsembleMember` from a dict (file entry) or a ``(config, checkpoint[, weight])`` sequence."""
    if isinstance(entry, EnsembleMember):
        return entry
    if isinstance(entry, (list, tuple)):
        if len(entry) not in (2, 3):
            raise LipToolkitError(f'{what}: give (config, checkpoint) or (config, checkpoint, weight), '
                                  f'got {len(entry)} values', source)
        entry = dict(zip(('config', 'checkpoint', 'weight'), entry))
    if not isinstance(entry, dict):
        raise LipToolkitError(f'{what}: expected dict(config=..., checkpoint=..., weight=...), got {entry!r}',
                              source)
    unknown = set(entry) - _MEMBER_KEYS
    if unknown:
        raise LipToolkitError(f'{what}: unknown key(s) {", ".join(sorted(unknown))} (allowed: '
                              f'{", ".join(sorted(_MEMBER_KEYS))})', source)
    for key in ('config', 'checkpoint'):
        if not entry.get(key):
            raise LipToolkitError(f'{what}: {key} is missing', source)
    try:
        weight = float(entry.get('weight', 1.0))
    except (TypeError, ValueError):
        raise LipToolkitError(f'{what}: weight must be a number, got {entry.get("weight")!r}', source) from None
    if not weight >= 0 or weight == float('inf'):
        raise LipToolkitError(f'{what}: weight must be a finite number >= 0, got {weight}', source)
    scales = entry.get('scales')
    flip = entry.get('flip')
    if flip is not None and not isinstance(flip, bool):
        raise LipToolkitError(f'{what}: flip must be True or False, got {flip!r}', source)
    cfg_options = entry.get('cfg_options')
    if cfg_options is not None and not isinstance(cfg_options, dict):
        raise LipToolkitError(f'{what}: cfg_options must be a dict', source)
    return EnsembleMember(
        config=str(entry['config']), checkpoint=_resolve_checkpoint(entry['checkpoint'], base_dir),
        weight=weight, name=str(entry.get('name') or ''), flip=flip,
        scales=None if scales is None else parse_scales(scales, f'{what}: scales', source),
        cfg_options=None if cfg_options is None else dict(cfg_options))


def read_ensemble_file(path: PathLike) -> dict:
    """The settings of an ensemble file (``.py``, ``.json``, ``.yaml``/``.yml``) as a plain dict."""
    from .core.paths import resolve_config
    path = resolve_config(path)
    from mmengine.config import Config
    try:
        cfg = Config.fromfile(str(path))
    except Exception as exc:  # syntax errors and the like: one line naming the file
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise LipToolkitError(f'cannot read ensemble file: {message}', path) from None
    settings = {k: v for k, v in cfg.to_dict().items() if k not in _IGNORED_KEYS}
    unknown = set(settings) - _FILE_KEYS
    if unknown:
        raise LipToolkitError(f'unknown setting(s) {", ".join(sorted(unknown))} (allowed: '
                              f'{", ".join(sorted(_FILE_KEYS))})', path)
    settings['source'] = str(path)
    return settings


def load_ensemble(path: Optional[PathLike] = None, members: Sequence = (), refiner=None,
                  track: Optional[str] = None, average: Optional[str] = None, flip: Optional[bool] = None,
                  scales: Optional[Sequence[float]] = None, check_files: bool = True) -> EnsembleSpec:
    """Build an :class:`EnsembleSpec` from a file, command-line members, or both (command line wins).

    Args:
        path: ensemble file (``.py``/``.json``/``.yaml``); optional when ``members`` are given.
        members: extra members: ``(config, checkpoint[, weight])`` tuples, dicts or :class:`EnsembleMember`;
            they are added to the file's.
        refiner: pose refiner ``(config, checkpoint)``/dict, replacing the file's.
        track, average, flip, scales: override the file's settings.
        check_files: verify that member configs and checkpoints exist and that every config's track (its
            ``default_scope``) is the ensemble's.

    Raises:
        LipToolkitError: no members, unknown keys, bad weights or scales, a refiner or ``average`` on the
            wrong track, missing files, or members of different tracks.
    """
    settings = read_ensemble_file(path) if path is not None else {}
    source = settings.get('source')
    base_dir = Path(source).parent if source else None
    file_members = settings.get('members') or []
    if not isinstance(file_members, (list, tuple)):
        raise LipToolkitError('members must be a list of dict(config=..., checkpoint=..., weight=...)', source)
    all_members = [make_member(m, source, base_dir, f'member {i + 1}') for i, m in enumerate(file_members)]
    all_members += [make_member(m, None, None, f'--member {i + 1}') for i, m in enumerate(members)]
    if not all_members:
        raise LipToolkitError('an ensemble needs at least one member (a file with members=[...] or --member)',
                              source)
    _distinct_names(all_members)
    if sum(m.weight for m in all_members) <= 0:
        raise LipToolkitError('member weights sum to 0: at least one member must have a positive weight', source)
    refiner_entry = refiner if refiner is not None else settings.get('refiner')
    refiner_member = None
    if refiner_entry is not None:
        from_file = refiner is None
        refiner_member = make_member(refiner_entry, source if from_file else None,
                                     base_dir if from_file else None, 'refiner')
    average = average or settings.get('average') or 'logits'
    if average not in AVERAGES:
        raise LipToolkitError(f"average must be 'logits' or 'softmax', got {average!r}", source)
    flip = flip if flip is not None else settings.get('flip')
    if flip is not None and not isinstance(flip, bool):
        raise LipToolkitError(f'flip must be True or False, got {flip!r}', source)
    scales = parse_scales(scales if scales is not None else settings.get('scales', (1.0,)), 'scales', source)
    track = track or settings.get('track')
    if track is not None and track not in TRACKS:
        raise LipToolkitError(f"track must be 'pose' or 'parsing', got {track!r}", source)
    spec = EnsembleSpec(track=track or '', members=all_members, average=average, flip=flip, scales=scales,
                        refiner=refiner_member, source=source)
    if check_files:
        _check_members(spec)
    elif not spec.track:
        raise LipToolkitError('track is not set (add track = "pose" or "parsing")', source)
    _check_track_settings(spec, settings, average_given=average != 'logits')
    return spec


def _distinct_names(members: List[EnsembleMember]) -> None:
    """Number repeated table names (two checkpoints of one config): ``name``, ``name #2``, ..."""
    counts = {}
    for member in members:
        counts[member.name] = counts.get(member.name, 0) + 1
        if counts[member.name] > 1:
            member.name = f'{member.name} #{counts[member.name]}'


def _check_members(spec: EnsembleSpec) -> None:
    """Every member's files exist and every config belongs to the ensemble's track."""
    from .core.runner import config_track, load_config
    tracks = []
    for member in spec.members + ([spec.refiner] if spec.refiner else []):
        cfg = load_config(member.config, member.cfg_options)
        tracks.append((member, config_track(cfg, member.config)))
        if not Path(member.checkpoint).is_file():
            raise LipToolkitError(f'checkpoint of member {member.name!r} not found', member.checkpoint)
    member_tracks = {track for member, track in tracks if member is not spec.refiner}
    if len(member_tracks) > 1:
        names = ', '.join(f'{m.name}: {t}' for m, t in tracks if m is not spec.refiner)
        raise LipToolkitError(f'members mix pose and parsing configs ({names})', spec.source)
    found = member_tracks.pop()
    if spec.track and spec.track != found:
        raise LipToolkitError(f'track is {spec.track!r} but the members are {found} configs', spec.source)
    spec.track = found
    if spec.refiner is not None:
        refiner_track = dict((id(m), t) for m, t in tracks)[id(spec.refiner)]
        if refiner_track != 'pose':
            raise LipToolkitError('the refiner must be a pose (PoseFix) config', spec.refiner.config)


def _check_track_settings(spec: EnsembleSpec, settings: dict, average_given: bool) -> None:
    if spec.track == 'parsing' and spec.refiner is not None:
        raise LipToolkitError('a refiner applies to pose ensembles only', spec.source)
    if spec.track == 'pose':
        if average_given or settings.get('average') not in (None, 'logits'):
            raise LipToolkitError('average (logits/softmax) applies to parsing ensembles only; pose ensembles '
                                  'average heatmaps', spec.source)
        if tuple(spec.scales) != (1.0,) or any(m.scales is not None for m in spec.members):
            raise LipToolkitError('scales apply to parsing ensembles only', spec.source)
