"""``lip-toolkit ensemble``: run an ensemble of checkpoints over a LIP split, for either track.

:func:`run_ensemble` reads the spec (:mod:`lip_toolkit.ensemble_config`), sets up the process group for
``--launcher``, and hands over to :func:`lip_toolkit.pose.ensemble.ensemble_pose` or
:func:`lip_toolkit.parsing.ensemble.ensemble_parsing`. What both tracks share lives here:

* the split is cut into batches first and whole batches are dealt to the ranks (``batches[rank::world]``), so
  every image meets the models in the same batch whatever the number of processes: a 2-rank run gives
  bit-identical predictions, hence exactly the scores of a 1-rank run;
* per-rank sums (confusion matrices, predictions) are merged with one collective;
* the member-vs-ensemble score table.
"""
import json
from typing import List, Optional, Sequence, Tuple

from .core.errors import LipToolkitError

#: Images a batch by default: those of the tracks' ``evaluate_checkpoint``.
DEFAULT_BATCH_SIZE = {'pose': 8, 'parsing': 4}


def run_ensemble(ensemble=None, members: Sequence = (), refiner=None, split: str = 'val', data_root=None,
                 out=None, device: Optional[str] = None, batch_size: Optional[int] = None,
                 average: Optional[str] = None, flip: Optional[bool] = None, scales=None, json_out=None,
                 launcher: str = 'none') -> dict:
    """Run an ensemble over ``split``; write its predictions to ``out``; score it and its members with labels.

    Args:
        ensemble: ensemble file (``configs/ensembles/*.py``, ``.json``, ``.yaml``) or an ``EnsembleSpec``.
        members: extra ``(config, checkpoint, weight)`` members (the command line's ``--member``).
        refiner: pose: ``(config, checkpoint)`` of a PoseFix refiner, replacing the file's.
        split: ``'val'``, ``'train'`` or ``'test'`` (no labels: predictions only).
        data_root: LIP release folder; default the first member config's.
        out: pose: the predictions CSV; parsing: the folder of ``<id>.png`` label maps.
        device: ``'cpu'``, ``'cuda'``, ``'cuda:N'``; default CUDA when available.
        batch_size: images decoded and run through every member together; default that of ``evaluate``
            (pose 8, parsing 4), so that a one-member ensemble sees exactly the batches ``evaluate`` runs.
        average, flip, scales: override the file's settings.
        json_out: also write the result (scores of members and ensemble) as JSON.
        launcher: ``'none'``, ``'pytorch'`` (under torchrun) or ``'slurm'``.

    Returns:
        ``{'track', 'split', 'num_images', 'members': [{'name', 'weight', <scores>}], 'ensemble': <scores>,
        'refined': <scores> (pose with refiner), 'table', 'out'}``; scores only for a split with labels.
    """
    from .core.launch import init_distributed, rank_and_world
    from .ensemble_config import EnsembleSpec, load_ensemble
    if split not in ('train', 'val', 'test'):
        raise LipToolkitError(f"split must be 'train', 'val' or 'test', got {split!r}")
    if batch_size is not None and batch_size < 1:
        raise LipToolkitError(f'batch size must be at least 1, got {batch_size}')
    if isinstance(ensemble, EnsembleSpec):
        spec = ensemble
    else:
        spec = load_ensemble(ensemble, members=members, refiner=refiner, average=average, flip=flip,
                             scales=scales)
    init_distributed(launcher)
    if batch_size is None:
        batch_size = DEFAULT_BATCH_SIZE[spec.track]
    common = dict(split=split, data_root=data_root, out=out, device=device, batch_size=batch_size)
    if spec.track == 'pose':
        from .pose.ensemble import ensemble_pose
        result = ensemble_pose(spec, **common)
    else:
        from .parsing.ensemble import ensemble_parsing
        result = ensemble_parsing(spec, **common)
    if json_out is not None and rank_and_world()[0] == 0:
        from .core.io import atomic_write
        with atomic_write(json_out) as handle:
            json.dump({k: v for k, v in result.items() if k != 'table'}, handle, indent=2)
    return result


def split_batches(items: Sequence, batch_size: int) -> List[Tuple[int, list]]:
    """This rank's batches as ``(first index, items)``: the split in batches, dealt round-robin to ranks."""
    from .core.launch import rank_and_world
    rank, world = rank_and_world()
    batches = [(start, list(items[start:start + batch_size])) for start in range(0, len(items), batch_size)]
    return batches[rank::world]


def versus_best_member(members: Sequence[dict], final: dict, key: str, final_name: str) -> dict:
    """How the ensemble's final score compares with its best member's (on ``key``, e.g. ``'mIoU'``).

    Returns:
        ``{'metric', 'best_member', 'best_member_score', 'final', 'final_score', 'gain', 'line'}``; ``gain`` is
        the final score minus the best member's (negative: the ensemble did worse), ``line`` says it in words.
    """
    scored = [m for m in members if m.get(key) is not None]
    best = max(scored, key=lambda m: m[key]) if scored else None
    final_score = final.get(key)
    summary = dict(metric=key, best_member=best and best['name'], best_member_score=best and best[key],
                   final=final_name, final_score=final_score, gain=None, line='')
    if best is not None and final_score is not None:
        gain = final_score - best[key]
        summary['gain'] = gain
        verdict = 'better than' if gain > 0 else 'as good as' if gain == 0 else 'WORSE than'
        summary['line'] = (f'{final_name} {key} {final_score:.2f} is {verdict} the best member '
                           f'({best["name"]}, {best[key]:.2f}): {gain:+.2f}')
    return summary


def format_member_table(rows: Sequence[Tuple[str, str, dict]], columns: Sequence[Tuple[str, str]]) -> str:
    """A plain-text table, one line per model: ``rows`` are ``(name, weight text, scores)``, ``columns``
    ``(title, score key)``.

    Example:
        >>> print(format_member_table([('a', '0.50', {'mIoU': 61.234}), ('ensemble', '', {'mIoU': 62.0})],
        ...                           [('mIoU', 'mIoU')]))
        model     weight    mIoU
        a           0.50   61.23
        ensemble           62.00
    """
    name_width = max([len('model')] + [len(name) for name, _, _ in rows])
    weight_width = max([len('weight')] + [len(weight) for _, weight, _ in rows])
    widths = [max(len(title), 6) for title, _ in columns]
    head = f"{'model':<{name_width}}  {'weight':>{weight_width}}" + ''.join(
        f'  {title:>{width}}' for (title, _), width in zip(columns, widths))
    lines = [head]
    for name, weight, scores in rows:
        cells = ''.join(f'  {_cell(scores.get(key)):>{width}}' for (_, key), width in zip(columns, widths))
        lines.append(f'{name:<{name_width}}  {weight:>{weight_width}}{cells}')
    return '\n'.join(lines)


def _cell(value) -> str:
    return '-' if value is None else f'{value:.2f}'
