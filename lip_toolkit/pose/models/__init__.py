"""LIP pose models registered with MMPose: the PoseFix refiner and the transforms that make its input pose."""
from .coarse_pose import CoarsePoseToInput, PackPoseFixInputs, SynthesizeCoarsePose, synthesize_coarse_pose
from .posefix import PoseFixEstimator, PoseFixHead, PoseFixResNet, bilinear_onehot_targets, render_pose_maps

__all__ = [
    'CoarsePoseToInput', 'PackPoseFixInputs', 'SynthesizeCoarsePose', 'synthesize_coarse_pose',
    'PoseFixEstimator', 'PoseFixHead', 'PoseFixResNet', 'bilinear_onehot_targets', 'render_pose_maps',
]
