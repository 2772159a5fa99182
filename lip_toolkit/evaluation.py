"""Model evaluation for both tracks: one entry point that dispatches on the config's scope."""
import json
from typing import Optional

from .core.errors import LipToolkitError


def parse_scales(scales, name: str = '--scales', source=None) -> Optional[tuple]:
    """Test scales as a tuple of positive floats; None stays None.

    Takes the command line's ``'0.75,1,1.25'``, a number, or a sequence (ensemble files). ``name`` and ``source``
    (a file) say in the error where the bad value came from.
    """
    if scales is None:
        return None
    if isinstance(scales, (int, float)):
        items = (scales,)
    elif isinstance(scales, str):
        items = [s for s in scales.split(',') if s.strip()]
    else:
        items = scales
    try:
        values = tuple(float(s) for s in items)
    except (TypeError, ValueError):
        raise LipToolkitError(f'{name} must be numbers, e.g. 0.75,1,1.25; got {scales!r}', source) from None
    if not values or any(v <= 0 for v in values):
        raise LipToolkitError(f'{name} must be positive numbers, got {scales!r}', source)
    return values


def evaluate_model(config, checkpoint, flip=None, scales=None, out=None, input_csv=None, split='val',
                   data_root=None, device=None, json_out=None, cfg_options=None, launcher='none',
                   backend='pytorch') -> dict:
    """Predict ``split`` with ``checkpoint`` and score it; returns the scores (and a printable ``table``)."""
    from .core.launch import init_distributed, rank_and_world
    from .core.runner import config_track, load_config
    cfg = load_config(config, cfg_options)
    track = config_track(cfg, config)
    init_distributed(launcher, cfg.get('env_cfg', {}).get('dist_cfg', {}))
    common = dict(split=split, data_root=data_root, device=device, cfg_options=cfg_options, backend=backend)
    if track == 'pose':
        if scales is not None:
            raise LipToolkitError('--scales applies to parsing configs only')
        from .pose.inference import evaluate_checkpoint
        result = evaluate_checkpoint(config, checkpoint, flip=True if flip is None else flip, out=out,
                                     input_csv=input_csv, **common)
    else:
        if input_csv is not None:
            raise LipToolkitError('--input applies to PoseFix (pose) configs only')
        from .parsing.inference import evaluate_checkpoint
        if flip is None:  # a config may ask for its reference's flip test (configs/references/)
            flip = bool((cfg.model.get('test_cfg') or {}).get('flip', False))
        result = evaluate_checkpoint(config, checkpoint, flip=bool(flip), scales=parse_scales(scales) or (1.0,),
                                     out_dir=out, **common)
    if json_out is not None and rank_and_world()[0] == 0:
        from .core.io import atomic_write
        with atomic_write(json_out) as handle:
            json.dump({k: v for k, v in result.items() if k != 'table'}, handle, indent=2)
    return result
