"""Bar charts for evaluation reports: per-joint PCKh for pose, per-class IoU for parsing.

They read the JSON that ``lip-toolkit evaluate pose --json`` and ``evaluate parsing --json`` write:

* pose: summary values (``Head``, ``Shoulder``, ... , ``Mean``) in percent plus ``per_joint``, a list of 16
  percentages in LIP joint order (``null`` where no joint was labelled);
* parsing: ``mIoU``, ``pixel_acc``, ``mean_acc`` and ``IoU``, a mapping class name -> percent.

``ensemble --json`` files hold such mappings per block; the chart shows the final one (see :func:`find_scores`).
"""
import io
import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..core.errors import LipToolkitError
from ..core.io import atomic_write
from .pose import LIP_JOINT_NAMES, joint_color


#: Blocks of an ``ensemble --json`` file, most final first: with a PoseFix refiner, ``refined`` is what the
#: ensemble delivers (and what ``submit`` would send); ``ensemble`` is the heatmap average before it.
FINAL_BLOCKS = (('refined', 'ensemble + refiner'), ('ensemble', 'ensemble'))


def _scored_blocks(data) -> List[Tuple[Optional[str], dict]]:
    """``(block label, mapping)`` candidates in the order they are tried: the top level, the final blocks of an
    ensemble result, then any other nested mapping."""
    candidates: List[Tuple[Optional[str], dict]] = [(None, data)]
    if isinstance(data, dict):
        finals = [key for key, _ in FINAL_BLOCKS]
        candidates += [(label, data[key]) for key, label in FINAL_BLOCKS if isinstance(data.get(key), dict)]
        candidates += [(key, value) for key, value in data.items() if isinstance(value, dict) and key not in finals]
    return candidates


def _find_block(data, path=None) -> Tuple[str, Optional[str], dict]:
    for label, scores in _scored_blocks(data):
        if isinstance(scores, dict) and 'per_joint' in scores:
            per_joint = scores['per_joint']
            if not isinstance(per_joint, list) or len(per_joint) != 16:
                raise LipToolkitError('"per_joint" must list 16 values (LIP joint order)', path)
            return 'pose', label, scores
        if isinstance(scores, dict) and isinstance(scores.get('IoU'), dict):
            return 'parsing', label, scores
    raise LipToolkitError('neither pose scores ("per_joint") nor parsing scores ("IoU") found; write them with '
                          '`lip-toolkit evaluate pose|parsing --json FILE`', path)


def find_scores(data, path=None) -> Tuple[str, dict]:
    """Tell which track a scores mapping is: ``('pose' | 'parsing', scores)``.

    The scores may sit at the top level or one level down. In an ``ensemble --json`` result the final score is
    taken: ``refined`` (after the PoseFix refiner) when present, else ``ensemble``, never a member's.

    Raises:
        LipToolkitError: neither pose (``per_joint``) nor parsing (``IoU``) scores, or a ``per_joint`` that
            does not hold 16 values.
    """
    track, _, scores = _find_block(data, path)
    return track, scores


def _read_json(path: Path):
    if not path.is_file():
        raise LipToolkitError('scores file not found', path)
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LipToolkitError(f'not a JSON file ({exc})', path) from None


def load_scores(path) -> Tuple[str, dict]:
    """Read an evaluation JSON file and tell which track it is (see :func:`find_scores`)."""
    path = Path(path)
    return find_scores(_read_json(path), path)


def _number(value) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _rgb(bgr) -> Tuple[float, float, float]:
    return (bgr[2] / 255.0, bgr[1] / 255.0, bgr[0] / 255.0)


def _bars(axis, names: List[str], values: List[Optional[float]], colors, ylabel: str, rotate: bool) -> None:
    heights = [v if v is not None else 0.0 for v in values]
    bars = axis.bar(range(len(names)), heights, color=colors, edgecolor='#333333', linewidth=0.5)
    for bar, value in zip(bars, values):
        text = 'n/a' if value is None else f'{value:.1f}'
        axis.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha='center', va='bottom',
                      fontsize=7, xytext=(0, 2), textcoords='offset points')
    axis.set_xticks(range(len(names)))
    axis.set_xticklabels(names, rotation=60 if rotate else 0, ha='right' if rotate else 'center', fontsize=8)
    axis.set_ylabel(ylabel)
    top = max([v for v in values if v is not None] or [0.0])
    axis.set_ylim(0, max(100.0, top * 1.1))
    axis.grid(True, axis='y', alpha=0.3)


def pose_summary(scores: dict) -> List[Tuple[str, float]]:
    """The PCKh summary values (``Head`` ... ``Mean``) present in ``scores``, in LIP's table order.

    Other numbers in the file (``evaluate CONFIG CHECKPOINT --json`` also stores ``num_images``...) are not bars.
    """
    from ..pose.pckh import SUMMARY_KEYS
    return [(key, _number(scores[key])) for key in SUMMARY_KEYS if _number(scores.get(key)) is not None]


def _pose_figure(scores: dict, title: str):
    from matplotlib.figure import Figure
    per_joint = [_number(v) for v in scores['per_joint']]
    summary = pose_summary(scores)
    figure = Figure(figsize=(13, 4.5), dpi=100, layout='constrained')
    axes = figure.subplots(1, 2, width_ratios=[16, max(3, len(summary))])
    _bars(axes[0], list(LIP_JOINT_NAMES), per_joint, [_rgb(joint_color(j)) for j in range(16)], 'PCKh@0.5 (%)',
          rotate=True)
    axes[0].set_title('Per joint (orange right, blue left, green body axis)')
    if summary:
        _bars(axes[1], [k for k, _ in summary], [v for _, v in summary], '#7f7f7f', 'PCKh@0.5 (%)', rotate=True)
        axes[1].set_title('Summary')
    else:
        axes[1].set_axis_off()
    figure.suptitle(title)
    return figure


def _parsing_figure(scores: dict, title: str):
    from matplotlib.figure import Figure
    from .parsing import lip_classes, palette_bgr
    iou: Dict[str, object] = scores['IoU']
    known = list(lip_classes())
    table = palette_bgr()
    names = list(iou)
    colors = []
    for name in names:
        index = known.index(name) if name in known else None
        colors.append(_rgb(table[index]) if index is not None else (0.5, 0.5, 0.5))
    values = [_number(iou[n]) for n in names]
    figure = Figure(figsize=(11, 4.8), dpi=100, layout='constrained')
    axis = figure.subplots()
    _bars(axis, names, values, colors, 'IoU (%)', rotate=True)
    mean_iou = _number(scores.get('mIoU'))
    if mean_iou is not None:
        axis.axhline(mean_iou, color='#d62728', linestyle='--', linewidth=1, label=f'mIoU {mean_iou:.2f}')
        axis.legend(loc='upper left', bbox_to_anchor=(1.0, 1.0), fontsize=8)  # outside: bars reach 100
    extras = [f'{label} {_number(scores[key]):.2f}' for key, label in
              (('mIoU', 'mIoU'), ('pixel_acc', 'pixel acc'), ('mean_acc', 'mean acc'))
              if _number(scores.get(key)) is not None]
    axis.set_title('Per-class IoU' + (f'  ({", ".join(extras)})' if extras else ''))
    figure.suptitle(title)
    return figure


def plot_scores(scores: dict, out, title: str = '') -> Tuple[str, Path]:
    """Draw the bar chart of a scores mapping into ``out`` (``.png``, ``.pdf``, ``.svg``, ``.jpg``), atomically.

    ``scores`` is what the evaluation functions return (``compute_lip_pckh`` / ``pckh_json`` for pose,
    ``miou_from_confusion`` for parsing), so a command can chart its result without writing JSON first.

    Returns:
        ``(track, out)`` with track ``'pose'`` or ``'parsing'``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    out = Path(out)
    suffix = out.suffix.lower().lstrip('.') or 'png'
    if suffix not in ('png', 'pdf', 'svg', 'jpg', 'jpeg'):
        raise LipToolkitError('output must end in .png, .pdf, .svg or .jpg', out)
    track, found = find_scores(scores)
    figure = _pose_figure(found, title) if track == 'pose' else _parsing_figure(found, title)
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format='jpeg' if suffix == 'jpg' else suffix)
    with atomic_write(out, 'wb') as handle:
        handle.write(buffer.getvalue())
    return track, out


def plot_report(scores_path, out, title: Optional[str] = None) -> Tuple[str, Path]:
    """Draw the bar chart for an evaluation JSON file (``evaluate ... --json``) into ``out``, atomically.

    Returns:
        ``(track, out)`` with track ``'pose'`` or ``'parsing'``.
    """
    out = Path(out)
    if out.suffix.lower().lstrip('.') not in ('png', 'pdf', 'svg', 'jpg', 'jpeg', ''):
        raise LipToolkitError('output must end in .png, .pdf, .svg or .jpg', out)
    path = Path(scores_path)
    _, block, scores = _find_block(_read_json(path), path)
    if title is None:
        title = path.name + (f' ({block})' if block else '')
    return plot_scores(scores, out, title=title)


#: The val score each track's training-time validation logs, and how the demo curves name it.
_DEMO_VAL_SCORES = {'pose': ('LIP/PCKh', 'val PCKh@0.5 (%)'), 'parsing': ('mIoU', 'val mIoU (%)')}


def plot_demo_curves(runs: Dict[str, Dict[str, object]], out, loss_only=()) -> Path:
    """The demo's learning curves in one picture: a row per track, training loss (left) and val score (right).

    Losses of different models differ in scale (heatmap MSE, cross-entropy), so each is drawn relative to its
    first logged value: every model's curve starts at 1 and falls as it learns.

    Args:
        runs: ``{'pose' | 'parsing': {model name: work dir}}``; a model whose log holds no val score appears in
            the loss panel only.
        out: picture file (``.png``, ``.pdf``, ``.svg``, ``.jpg``), written atomically.
        loss_only: names of models drawn in the loss panel only (a val score not comparable with the others').
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from .curves import load_training_scalars
    out = Path(out)
    suffix = out.suffix.lower().lstrip('.') or 'png'
    if suffix not in ('png', 'pdf', 'svg', 'jpg', 'jpeg'):
        raise LipToolkitError('output must end in .png, .pdf, .svg or .jpg', out)
    tracks = [track for track in ('pose', 'parsing') if runs.get(track)]
    figure = Figure(figsize=(11, 3.6 * len(tracks)), dpi=100, layout='constrained')
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(tracks), 2, squeeze=False)
    for (loss_axis, score_axis), track in zip(axes, tracks):
        key, label = _DEMO_VAL_SCORES[track]
        for name, work_dir in runs[track].items():
            scalars = load_training_scalars(work_dir)
            steps, values = scalars.train.get('loss', ([], []))
            if values and values[0] > 0:
                loss_axis.plot(steps, [v / values[0] for v in values], label=name, linewidth=1.2)
            if key in scalars.val and name not in loss_only:
                epochs, scores = scalars.val[key]
                score_axis.plot(epochs, scores, marker='o', markersize=4, label=name, linewidth=1.2)
        loss_axis.set(title=f'{track}: training loss (relative to its start)', xlabel='iteration')
        score_axis.set(title=f'{track}: {label} during training', xlabel='epoch', ylabel=label)
        for axis in (loss_axis, score_axis):
            axis.set_ylim(bottom=0)
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            axis.grid(True, alpha=0.3)
            if axis.get_legend_handles_labels()[0]:
                axis.legend(fontsize='small')
    buffer = io.BytesIO()
    figure.savefig(buffer, format='jpeg' if suffix == 'jpg' else suffix)
    with atomic_write(out, 'wb') as handle:
        handle.write(buffer.getvalue())
    return out
