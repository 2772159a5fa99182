"""Parsing models: CE2P (with PSP or OCNet context), OCNet heads, the seed's extra backbones.

Importing this package registers them with ``mmseg.registry.MODELS`` (``DCNv2TV`` with mmengine's root
``MODELS``, which mmcv's ``build_conv_layer`` reads from any scope).
"""
from .backbones import DilatedSCNet, HRNetFuseToSize
from .deform_conv import ModulatedDeformConv2dTV
from .ce2p_head import CE2PHead, PSPContext, edge_map_from_labels
from .losses import ClassBalancedEdgeLoss, class_balanced_edge_weights
from .ocnet import ASPOCContext, ASPOCHead, BaseOCContext, BaseOCHead, ObjectContextBlock

__all__ = [
    'ASPOCContext', 'ASPOCHead', 'BaseOCContext', 'BaseOCHead', 'CE2PHead', 'ClassBalancedEdgeLoss',
    'DilatedSCNet', 'HRNetFuseToSize', 'ObjectContextBlock', 'PSPContext', 'class_balanced_edge_weights',
    'edge_map_from_labels', 'ModulatedDeformConv2dTV',
]
