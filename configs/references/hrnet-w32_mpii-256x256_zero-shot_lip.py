# MMPose's MPII HRNet-W32 (td-hm_hrnet-w32_8xb64-210e_mpii-256x256, weights hrnet_w32_mpii_256x256-6c4f923f_20200812
# .pth) on LIP as it is: MPII's 16 joints are LIP's, in LIP's order, so the whole model, head included, applies
# (a zero-shot LIP baseline, no LIP training). Same network, input (256x256, RGB, ImageNet mean/std), heatmaps
# (64x64, MSRA sigma 2) and flip test (heatmap flip + shift) as the MMPose config.
# Published: PCKh@0.5 0.900 on MPII val (MMPose model zoo). There is no published LIP number for it; the expected
# `lip-toolkit evaluate` result is whatever this baseline scores on LIP val (it is not trained on LIP's images).
#   lip-toolkit convert mmpose hrnet_w32_mpii_256x256-6c4f923f_20200812.pth hrnet_mpii.pth   # keypoint_head -> head
#   lip-toolkit evaluate configs/references/hrnet-w32_mpii-256x256_zero-shot_lip.py hrnet_mpii.pth --data-root LIP
# Fine-tuning on LIP from it: `lip-toolkit train` with this config; `load_from` reads the MMPose file as it is
# (MMPose renames keypoint_head while loading), from a local path; nothing is downloaded.
_base_ = ['../_base_/pose_hrnet_w32.py']

load_from = 'checkpoints/hrnet_w32_mpii_256x256-6c4f923f_20200812.pth'

codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)
model = dict(
    backbone=dict(init_cfg=None),  # every weight comes from the MPII checkpoint
    head=dict(decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_prob=0),  # MMPose's MPII recipe: no half-body, no shift
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
