"""Bring your own checkpoints: the reference systems' released weights as toolkit checkpoints.

``lip-toolkit convert {ce2p,schp,hrnet-seg,mmpose} SRC DST [--config CONFIG]`` and :func:`convert` map a
reference's state dict onto the model of the matching config in ``configs/references/`` (or any config with the
same model), strictly: any key left unmatched on either side refuses the conversion and nothing is written.
See ``docs/convert.md`` and :mod:`lip_toolkit.convert.common` for what each step does.
"""
from typing import Dict, Optional

from . import ce2p, hrnet_seg, mmpose_zoo, schp
from .common import ConversionMismatch, ReferenceSpec, apply_spec, convert_checkpoint

#: Every reference by its command-line name.
REFERENCES: Dict[str, ReferenceSpec] = {spec.name: spec for spec in (ce2p.SPEC, schp.SPEC, hrnet_seg.SPEC,
                                                                     mmpose_zoo.SPEC)}


def convert(reference: str, src, dst, config=None, cfg_options: Optional[dict] = None) -> dict:
    """Convert ``src`` (a ``reference`` checkpoint) into ``dst`` for ``config`` (default: the reference config).

    Example:
        >>> convert('schp', 'exp-schp-201908261155-lip.pth', 'schp_lip.pth')  # doctest: +SKIP
        {'dst': 'schp_lip.pth', 'config': 'configs/references/schp_r101_lip-473x473.py', ...}
    """
    from ..core.errors import LipToolkitError
    spec = REFERENCES.get(reference)
    if spec is None:
        raise LipToolkitError(f'unknown reference {reference!r}; one of {", ".join(REFERENCES)}')
    return convert_checkpoint(spec, src, dst, config=config, cfg_options=cfg_options)


__all__ = ['REFERENCES', 'ConversionMismatch', 'ReferenceSpec', 'apply_spec', 'convert']
