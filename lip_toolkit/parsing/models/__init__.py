"""Parsing models: CE2P (with PSP or OCNet context), OCNet heads, the seed's extra backbones.

Importing this package registers them with ``mmseg.registry.MODELS`` (``DCNv2TV`` with mmengine's root
``MODELS``, which mmcv's ``build_conv_layer`` reads from any scope).
"""
from .backbones import DilatedSCNet, HRNetFuseToSize
from .deform_conv import ModulatedDeformConv2dTV
from .ce2p_head import CE2PHead, PSPContext, edge_map_from_labels
from .losses import (ClassBalancedEdgeLoss, ParsingEdgeConsistencyLoss, class_balanced_edge_weights,
                     soft_edges_from_parsing)
from .ocnet import ASPOCContext, ASPOCHead, BaseOCContext, BaseOCHead, ObjectContextBlock
from .schp_head import SCHPHead

__all__ = [
    'ASPOCContext', 'ASPOCHead', 'BaseOCContext', 'BaseOCHead', 'CE2PHead', 'ClassBalancedEdgeLoss',
    'DilatedSCNet', 'HRNetFuseToSize', 'ModulatedDeformConv2dTV', 'ObjectContextBlock', 'PSPContext',
    'ParsingEdgeConsistencyLoss', 'SCHPHead', 'class_balanced_edge_weights', 'edge_map_from_labels',
    'soft_edges_from_parsing',
]
