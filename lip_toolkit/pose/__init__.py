"""The MMPose side: importing this package registers LIP pose datasets, metrics and models with mmpose."""
from . import datasets, metrics, models  # noqa: F401  (registration)
