"""The resolved config, as MMPose's and MMSeg's ``tools/misc/print_config.py`` print it."""
from typing import Optional


def print_config(config, cfg_options: Optional[dict] = None) -> str:
    """The text of ``config`` after ``_base_`` inheritance and ``cfg_options``: mmengine's ``Config.pretty_text``,
    which reads back as the same config (``Config.fromstring(text, '.py')``).

    Args:
        config: config path (or a path under the repository's ``configs/``).
        cfg_options: ``{'key.path': value}`` overrides, merged as ``train --cfg-options`` merges them.
    """
    from ..core.runner import load_config
    return load_config(config, cfg_options).pretty_text
