"""Importing this module registers LIP parsing datasets, transforms, metrics and models with mmseg's registries.

It is what configs name in ``custom_imports`` and what :mod:`lip_toolkit.registration` adds to mmseg's registry
locations. ``lip_toolkit.parsing`` itself stays light, so that offline tools (PNG scoring) never import mmseg.
"""
from ..core import checkpoint, gpu_speed  # noqa: F401  (register SafeCheckpointHook and CudaAmpOptimWrapper)
from ..convert.imagenet import register_initializer
from . import datasets, metrics, models, self_correction  # noqa: F401

register_initializer()  # init_cfg type='ConvertedPretrained' (the SE-ResNet-152 config's ImageNet weights)
