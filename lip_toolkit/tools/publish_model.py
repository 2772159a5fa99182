"""A trained checkpoint stripped for release, as OpenMMLab's ``tools/misc/publish_model.py`` makes one.

What goes: the optimizer state, the message hub (loss / metric history), the parameter schedulers and an EMA copy
of the weights (only ``--resume`` needs them), and ``data_preprocessor.*`` buffers of the weights (rebuilt from
the config). What stays: ``state_dict`` and ``meta`` (config text, dataset metainfo, epoch, seed). The file is
named ``<OUT stem>-<first 8 hex digits of its sha256>.pth``, as MMPose's and MMSeg's script name it (MMPose also
appends the date; the hash alone identifies the file). Like every checkpoint the toolkit writes, it loads with a
plain weights-only ``torch.load`` (no allow-list).
"""
import hashlib
import io
from pathlib import Path
from typing import Tuple

from ..core.errors import LipToolkitError

#: Top-level entries only resuming needs.
TRAINING_ONLY_KEYS = ('optimizer', 'message_hub', 'param_schedulers', 'ema_state_dict')


def published_name(out, data: bytes) -> Path:
    """``out`` with ``.pth`` replaced by ``-<sha256[:8]>.pth``."""
    out = Path(out)
    stem = out.name[:-len('.pth')] if out.name.endswith('.pth') else out.name
    return out.with_name(f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth')


def publish_model(in_file, out_file, overwrite: bool = False) -> Tuple[Path, dict]:
    """Write the release version of checkpoint ``in_file``; return its path and what was removed.

    Args:
        in_file: a training checkpoint (read with the toolkit's safe loader).
        out_file: the name to publish under; the sha256 prefix is added before ``.pth``.
        overwrite: replace a file of the final name (the same hash: the same bytes, in all likelihood).

    Returns:
        ``(path written, {'removed': [top-level keys], 'removed_weights': [state_dict keys], 'size_in',
        'size_out'})``.

    Raises:
        LipToolkitError: unreadable input, no ``state_dict`` in it, or an output that cannot be written.
    """
    import torch

    from ..core.checkpoint import make_plain, safe_load
    from ..core.io import atomic_write, check_output
    in_file = Path(in_file)
    checkpoint = safe_load(in_file)
    state_dict = checkpoint.get('state_dict')
    if not isinstance(state_dict, dict) or not any(torch.is_tensor(v) for v in state_dict.values()):
        raise LipToolkitError(f'no state_dict of weights in the checkpoint (keys: {", ".join(map(str, checkpoint))})',
                              in_file)
    removed = [key for key in TRAINING_ONLY_KEYS if key in checkpoint]
    for key in removed:
        del checkpoint[key]
    removed_weights = [key for key in state_dict if str(key).startswith('data_preprocessor')]
    for key in removed_weights:
        del state_dict[key]
    # safe_load gave numpy values back; they are stored as plain data again, as training saves them.
    make_plain(checkpoint)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    data = buffer.getvalue()
    target = published_name(out_file, data)
    check_output(target, overwrite)
    with atomic_write(target, 'wb') as handle:
        handle.write(data)
    return target, dict(removed=removed, removed_weights=removed_weights, size_in=in_file.stat().st_size,
                        size_out=len(data))
