"""Parsing models: CE2P (with PSP or OCNet context), OCNet heads, the seed's extra backbones.

Importing this package registers them with ``mmseg.registry.MODELS``.
"""
from .backbones import DilatedSCNet, HRNetFuseToSize
from .ce2p_head import CE2PHead, PSPContext, edge_map_from_labels
from .losses import ClassBalancedEdgeLoss, class_balanced_edge_weights
from .ocnet import ASPOCContext, ASPOCHead, BaseOCContext, BaseOCHead, ObjectContextBlock

__all__ = [
    'ASPOCContext', 'ASPOCHead', 'BaseOCContext', 'BaseOCHead', 'CE2PHead', 'ClassBalancedEdgeLoss',
    'DilatedSCNet', 'HRNetFuseToSize', 'ObjectContextBlock', 'PSPContext', 'class_balanced_edge_weights',
    'edge_map_from_labels',
]
