"""``lip-toolkit ensemble``: run an ensemble of checkpoints over a LIP split, for either track.

:func:`run_ensemble` reads the spec (:mod:`lip_toolkit.ensemble_config`), sets up the process group for
``--launcher``, and hands over to :func:`lip_toolkit.pose.ensemble.ensemble_pose` or
:func:`lip_toolkit.parsing.ensemble.ensemble_parsing`. What both tracks' ensembles share (batches dealt to ranks,
the member table) lives in :mod:`lip_toolkit.core.ensemble`, which the tracks import without importing this module.
"""
import json
from typing import Optional, Sequence

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
