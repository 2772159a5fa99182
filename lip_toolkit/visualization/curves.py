"""Plot training curves (losses, learning rate, validation metrics) from an MMEngine work dir.

MMEngine's ``LocalVisBackend`` writes one JSON object per line to ``<work_dir>/<timestamp>/vis_data/scalars.json``
(and the same lines to ``vis_data/<timestamp>.json``): training lines carry ``lr``, ``loss*``, ``iter`` and
``step`` (the iteration); validation lines carry the metric values and ``step`` (the epoch, or the iteration for
iteration-based loops). A work dir holds one timestamp folder per run; a resumed run continues the step count,
a restarted one begins again, and :func:`load_training_scalars` stitches them accordingly.
"""
import dataclasses
import io
import json
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..core.errors import LipToolkitError
from ..core.io import atomic_write

_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
# Bookkeeping keys that are not curves.
_NOT_PLOTTED = {'step', 'epoch', 'iter', 'time', 'data_time', 'memory', 'eta'}

Series = Dict[str, Tuple[List[float], List[float]]]


@dataclasses.dataclass
class TrainingScalars:
    """Scalar curves of one work dir.

    Attributes:
        train: name -> (steps, values) for training lines (x = iteration).
        val: name -> (steps, values) for validation lines (x = epoch or iteration, see ``val_by_epoch``).
        val_by_epoch: whether validation steps count epochs (training lines carry an ``epoch`` key).
        sources: the scalar files read, oldest run first.
    """
    train: Series
    val: Series
    val_by_epoch: bool
    sources: List[Path]


def find_scalar_files(work_dir) -> List[Path]:
    """The scalar file of every run under ``work_dir`` (oldest first); ``work_dir`` may also be one run's folder,
    its ``vis_data`` folder or a scalar file itself."""
    work_dir = Path(work_dir)
    if work_dir.is_file():
        return [work_dir]
    if not work_dir.is_dir():
        raise LipToolkitError('work dir not found', work_dir)

    def in_run(run_dir: Path) -> Optional[Path]:
        for candidate in (run_dir / 'vis_data' / 'scalars.json', run_dir / 'vis_data' / f'{run_dir.name}.json',
                          run_dir / 'scalars.json', run_dir / f'{run_dir.name}.json'):
            if candidate.is_file():
                return candidate
        return None

    runs = sorted(p for p in work_dir.iterdir() if p.is_dir() and _TIMESTAMP.match(p.name))
    files = [f for f in (in_run(r) for r in runs) if f is not None]
    if not files:
        own = in_run(work_dir)
        if own is None and work_dir.name == 'vis_data' and (work_dir / 'scalars.json').is_file():
            own = work_dir / 'scalars.json'
        files = [own] if own is not None else []
    if not files:
        raise LipToolkitError('no training logs found (expected <timestamp>/vis_data/scalars.json, written by '
                              'MMEngine during training)', work_dir)
    return files


def _read_lines(path: Path) -> List[dict]:
    records = []
    with open(path, encoding='utf-8', errors='replace') as handle:
        lines = handle.read().split('\n')
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if line_no == len(lines):
                break  # a run killed mid-write leaves a partial last line; the rest is good
            raise LipToolkitError(f'not a JSON line ({exc.msg})', path, f'line {line_no}') from None
        if not isinstance(record, dict):
            raise LipToolkitError('expected one JSON object per line', path, f'line {line_no}')
        records.append(record)
    return records


def _is_train(record: dict) -> bool:
    return 'lr' in record or any('loss' in key for key in record)


def _append(series: Series, record: dict) -> None:
    step = record.get('step')
    if not isinstance(step, (int, float)):
        return
    for key, value in record.items():
        if key in _NOT_PLOTTED or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            continue
        steps, values = series.setdefault(key, ([], []))
        steps.append(float(step))
        values.append(float(value))


def _stitch(runs: List[List[dict]]) -> List[dict]:
    """Join runs in time order; a run that starts at or before an earlier run's last step replaces the earlier
    points from that step on (resume from an older checkpoint, or a fresh restart)."""
    joined: List[dict] = []
    for records in runs:
        steps = [r['step'] for r in records if isinstance(r.get('step'), (int, float))]
        if steps:
            first = min(steps)
            joined = [r for r in joined if r.get('step', -math.inf) < first]
        joined.extend(records)
    return joined


def load_training_scalars(work_dir) -> TrainingScalars:
    """Read every run's scalar file under ``work_dir`` into training and validation curves."""
    files = find_scalar_files(work_dir)
    train_runs, val_runs = [], []
    for path in files:
        records = _read_lines(path)
        train_runs.append([r for r in records if _is_train(r)])
        val_runs.append([r for r in records if not _is_train(r)])
    train_records, val_records = _stitch(train_runs), _stitch(val_runs)
    train: Series = {}
    val: Series = {}
    for record in train_records:
        _append(train, record)
    for record in val_records:
        _append(val, record)
    if not train and not val:
        raise LipToolkitError('training logs hold no scalar values yet', files[-1])
    by_epoch = any('epoch' in r for r in train_records)
    return TrainingScalars(train=train, val=val, val_by_epoch=by_epoch, sources=files)


def _panels(scalars: TrainingScalars) -> List[Tuple[str, str, Series]]:
    losses = {k: v for k, v in scalars.train.items() if 'loss' in k}
    rates = {k: v for k, v in scalars.train.items() if k in ('lr', 'base_lr') or k.endswith('_lr')}
    # 'base_lr' duplicates 'lr' unless they differ (layer-wise multipliers).
    if 'lr' in rates and 'base_lr' in rates and rates['lr'] == rates['base_lr']:
        rates.pop('base_lr')
    others = {k: v for k, v in scalars.train.items() if k not in losses and k not in rates and k != 'base_lr'}
    val_axis = 'epoch' if scalars.val_by_epoch else 'iteration'
    panels = [('Training loss', 'iteration', losses), ('Learning rate', 'iteration', rates),
              ('Training metrics', 'iteration', others), ('Validation', val_axis, scalars.val)]
    return [p for p in panels if p[2]]


def plot_training_curves(work_dir, out, title: Optional[str] = None) -> Path:
    """Plot the curves of ``work_dir`` into one picture ``out`` (``.png``, ``.pdf`` or ``.svg``), atomically.

    Panels: training losses, learning rate, other training scalars (e.g. ``acc_pose``), validation metrics.
    Uses matplotlib's Agg canvas directly (no pyplot, no display needed).

    Returns:
        ``out`` as a ``Path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    out = Path(out)
    suffix = out.suffix.lower().lstrip('.') or 'png'
    if suffix not in ('png', 'pdf', 'svg', 'jpg', 'jpeg'):
        raise LipToolkitError('output must end in .png, .pdf, .svg or .jpg', out)
    scalars = load_training_scalars(work_dir)
    panels = _panels(scalars)
    figure = Figure(figsize=(6.0 * len(panels), 4.0), dpi=100, layout='constrained')
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for axis, (panel_title, x_label, series) in zip(axes, panels):
        for name, (steps, values) in sorted(series.items()):
            marker = 'o' if len(steps) <= 30 else None
            axis.plot(steps, values, label=name, marker=marker, markersize=3, linewidth=1.2)
        axis.set_title(panel_title)
        axis.set_xlabel(x_label)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole iterations or epochs
        axis.grid(True, alpha=0.3)
        if panel_title == 'Learning rate':
            axis.ticklabel_format(axis='y', style='sci', scilimits=(-3, 3))
        axis.legend(fontsize='small')
    figure.suptitle(title or str(Path(work_dir).name))
    buffer = io.BytesIO()
    figure.savefig(buffer, format='jpeg' if suffix == 'jpg' else suffix)
    with atomic_write(out, 'wb') as handle:
        handle.write(buffer.getvalue())
    return out
