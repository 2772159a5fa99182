"""What both tracks' ensembles share: the split dealt to ranks in whole batches, and the member-vs-ensemble table.

* the split is cut into batches first and whole batches are dealt to the ranks (``batches[rank::world]``), so
  every image meets the models in the same batch whatever the number of processes: a 2-rank run gives
  bit-identical predictions, hence exactly the scores of a 1-rank run;
* per-rank sums (confusion matrices, predictions) are merged with one collective (:mod:`lip_toolkit.core.launch`);
* the weighted sum that both tracks' averaging is made of (:func:`accumulate`);
* the member-vs-ensemble score table and the line that compares the ensemble with its best member.

It lives in ``core`` so that :mod:`lip_toolkit.pose.ensemble`, :mod:`lip_toolkit.parsing.ensemble` and
:mod:`lip_toolkit.ensemble` (which dispatches to them) all import it without a cycle.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np

from . import launch


def accumulate(total: Optional[np.ndarray], output: np.ndarray, weight: float) -> Optional[np.ndarray]:
    """``total + weight * output`` (``total`` may be None; a zero weight leaves it as it is)."""
    if weight == 0:
        return total
    contribution = output if weight == 1.0 else output * np.float32(weight)
    return contribution if total is None else total + contribution


def split_batches(items: Sequence, batch_size: int) -> List[Tuple[int, list]]:
    """This rank's batches as ``(first index, items)``: the split in batches, dealt round-robin to ranks."""
    rank, world = launch.rank_and_world()
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
