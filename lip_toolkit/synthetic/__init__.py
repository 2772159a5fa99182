"""Synthetic LIP: a small dataset laid out exactly like the real LIP release, for demos and tests.

:func:`synthesize_lip` draws people whose part labels (20 LIP classes) and 16 keypoints agree by construction,
and writes them in LIP's own files (JPEG images, grey PNG labels, the no-header pose CSV, id lists), so every
reader in the toolkit can be exercised without the real data. See ``docs/synthetic.md``.
"""
from .generator import SyntheticLipSummary, synthesize_lip

__all__ = ['synthesize_lip', 'SyntheticLipSummary']
