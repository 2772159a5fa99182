"""LIP parsing data for MMSeg: the release-layout dataset, training transforms, multi-human crops."""
from .lip import LIPParsingDataset, find_lip_split
from .multihuman import MHP_V2_TO_LIP, convert_cihp, convert_mhp
from .transforms import LIPRandomAffine, LIPRandomFlip

__all__ = ['LIPParsingDataset', 'find_lip_split', 'LIPRandomAffine', 'LIPRandomFlip', 'convert_cihp', 'convert_mhp',
           'MHP_V2_TO_LIP']
