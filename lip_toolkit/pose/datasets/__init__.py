"""LIP pose datasets for MMPose, and the mappings that bring COCO and AI Challenger into LIP's 16 joints."""
from .aic_raw import AicRawDataset
from .lip_pose import LIP_POSE_METAINFO_FILE, LIPPoseDataset, find_lip_pose_files
from .mappings import AIC_TO_LIP, COCO_TO_LIP, LIP_TO_LIP, masked_lip_joints
from .transforms import LIP_FLIP_INDICES, LIPKeypointConverter, LIPMSRAHeatmap, LIPRandomBBoxTransform

__all__ = [
    'LIPPoseDataset', 'AicRawDataset', 'find_lip_pose_files', 'LIP_POSE_METAINFO_FILE', 'COCO_TO_LIP',
    'AIC_TO_LIP', 'LIP_TO_LIP', 'masked_lip_joints', 'LIPKeypointConverter', 'LIP_FLIP_INDICES',
    'LIPRandomBBoxTransform', 'LIPMSRAHeatmap'
]
