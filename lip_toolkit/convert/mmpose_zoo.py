"""MMPose model-zoo checkpoints (HRNet, MSPN on MPII or COCO) for ``lip-toolkit evaluate`` / ``predict``.

MMPose 1.x configs still point at checkpoints saved by MMPose 0.x, whose head is ``keypoint_head.*``; MMPose
renames it to ``head.*`` while loading (a state-dict pre-hook), so ``load_from`` and ``init_cfg`` take those files
as they are. The toolkit's own commands load strictly (every key must be the model's), so for them this
converter writes the same weights under MMPose 1.x names: ``keypoint_head.`` -> ``head.``; ``backbone.`` and
``head.`` keys are kept. The target config decides whether the head must match: an MPII checkpoint fits
``configs/references/hrnet-w32_mpii-256x256_zero-shot_lip.py`` (16 joints in LIP's order) whole; a COCO one
(17 joints) does not, and is used through ``init_cfg`` with ``prefix='backbone.'`` instead.
"""
from .common import ReferenceSpec

SPEC = ReferenceSpec(
    name='mmpose',
    title='MMPose',
    default_config='configs/references/hrnet-w32_mpii-256x256_zero-shot_lip.py',
    rules=[
        (r'keypoint_head\.(.+)', r'head.\1'),
        (r'((?:backbone|neck|head)\..+)', r'\1'),
    ],
    strip_prefixes=('module.', ),
)
