"""SCHP (GoGoDuck912/Self-Correction-Human-Parsing, ``networks/AugmentCE2P.py``): ``exp-schp-201908261155-lip.pth``.

SCHP's network is CE2P's, layer for layer (deep-stem dilated ResNet-101 at output stride 16, PSP context, edge
module on layers 1-3, decoder with a 48-channel skip, fusion); only the head modules are renamed:

==========================  ======================  ===========================================================
CE2P                        SCHP                    toolkit
==========================  ======================  ===========================================================
``layer5``                  ``context_encoding``    ``decode_head.context`` (PSP; bottleneck inputs reordered)
``edge_layer``              ``edge``                ``decode_head.edge_reduce/edge_classifier/edge_fuse``
``layer6``                  ``decoder``             ``decode_head.context_reduce/skip_reduce/decoder/decoder_seg``
``layer7``                  ``fushion`` (sic)       ``decode_head.fusion``, ``decode_head.conv_seg``
==========================  ======================  ===========================================================

The checkpoint is ``{'state_dict': {'module.<key>': ...}, ...}`` (saved from ``DataParallel``). Every norm is
an ``InPlaceABNSync`` (backbone ``activation='none'``, head LeakyReLU 0.01) scaling by ``|weight| + 1e-5``.
Its input is BGR with mean (0.406, 0.456, 0.485) and std (0.225, 0.224, 0.229) on [0, 1] pixels
(``pretrained_settings`` in ``AugmentCE2P.py``), which ``configs/references/schp_r101_lip-473x473.py`` sets.
"""
from collections import OrderedDict
from typing import Sequence

from . import ce2p

SCHP_HEAD_NAMES = dict(context='context_encoding', edge='edge', decoder='decoder', fusion='fushion')


def reference_keys(num_classes: int = 20, layers: Sequence[int] = ce2p.RESNET101_LAYERS) -> 'OrderedDict':
    """SCHP's whole state dict as ``{key: shape}`` (no ``module.`` prefix); ResNet-101 by default."""
    return ce2p.reference_keys(num_classes, layers, SCHP_HEAD_NAMES)


SPEC = ce2p.make_spec('schp', 'SCHP', 'configs/references/schp_r101_lip-473x473.py', SCHP_HEAD_NAMES)
