"""The MMSeg side: importing this package registers LIP parsing datasets, metrics and models with mmseg."""
from . import datasets, metrics, models  # noqa: F401  (registration)
