"""LIP parsing data for MMSeg: the release-layout dataset, training transforms, multi-human crops."""
from .lip import LIPParsingDataset, find_lip_split
from .transforms import LIPRandomAffine, LIPRandomFlip

__all__ = ['LIPParsingDataset', 'find_lip_split', 'LIPRandomAffine', 'LIPRandomFlip']
