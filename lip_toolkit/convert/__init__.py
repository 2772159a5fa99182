"""Bring your own checkpoints: the reference systems' released weights as toolkit checkpoints.

``lip-toolkit convert {ce2p,schp,hrnet-seg,mmpose} SRC DST [--config CONFIG] [--variant V]`` and :func:`convert` map a
reference's state dict onto the model of the matching config in ``configs/references/`` (or any config with the
same model), strictly: any key left unmatched on either side refuses the conversion and nothing is written.
See ``docs/convert.md`` and :mod:`lip_toolkit.convert.common` for what each step does.
"""
from typing import Dict, Optional

from . import ce2p, hrnet_seg, imagenet, mmpose_zoo, schp
from .common import ConversionMismatch, ReferenceSpec, apply_spec, convert_checkpoint, resolve_variant

#: Every reference by its command-line name.
REFERENCES: Dict[str, ReferenceSpec] = {spec.name: spec for spec in (ce2p.SPEC, schp.SPEC, hrnet_seg.SPEC,
                                                                     mmpose_zoo.SPEC, imagenet.SE_RESNET152,
                                                                     imagenet.SCNET101)}


def convert(reference: str, src, dst, config=None, cfg_options: Optional[dict] = None,
            variant: Optional[str] = None) -> dict:
    """Convert ``src`` (a ``reference`` checkpoint) into ``dst`` for ``config`` (default: the reference config).

    ``variant`` picks the released network for a reference with several (``hrnet-seg``: ``inplace-abn`` or
    ``bn``, see :mod:`lip_toolkit.convert.hrnet_seg`); by default the file's own, and required where the file
    does not tell.

    Example:
        >>> convert('schp', 'exp-schp-201908261155-lip.pth', 'schp_lip.pth')  # doctest: +SKIP
        {'dst': 'schp_lip.pth', 'config': 'configs/references/schp_r101_lip-473x473.py', ...}
    """
    from ..core.errors import LipToolkitError
    spec = REFERENCES.get(reference)
    if spec is None:
        raise LipToolkitError(f'unknown reference {reference!r}; one of {", ".join(REFERENCES)}')
    return convert_checkpoint(spec, src, dst, config=config, cfg_options=cfg_options, variant=variant)


#: Every variant name any reference accepts (the command line's ``--variant`` choices).
VARIANT_NAMES = tuple(dict.fromkeys(name for spec in REFERENCES.values() for name in spec.variants))

__all__ = ['REFERENCES', 'VARIANT_NAMES', 'ConversionMismatch', 'ReferenceSpec', 'apply_spec', 'convert',
           'resolve_variant']
