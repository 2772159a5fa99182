"""Importing this module registers LIP pose datasets, transforms, metrics and models with mmpose's registries.

It is what configs name in ``custom_imports`` and what :mod:`lip_toolkit.registration` adds to mmpose's registry
locations. ``lip_toolkit.pose`` itself stays light, so that offline tools (CSV scoring) never import mmpose.
"""
from ..core import checkpoint, gpu_speed  # noqa: F401  (register SafeCheckpointHook and CudaAmpOptimWrapper)
from . import datasets, metrics, models  # noqa: F401
