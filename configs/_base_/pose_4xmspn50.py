# 4-stage MSPN (ResNet-50 units) top-down heatmap model for LIP's 16 joints at 384x288: MMPose's MSPN recipe
# (mmpose td-hm_4xmspn50_8xb32-210e_coco-256x192: Adam 5e-3, 210 epochs, Megvii heatmaps, per-stage MSE + OHKM
# on the last unit), with the Gaussian kernels scaled with the input (x1.5: 15/11/9/7/5 -> 23/17/13/11/7) and LIP
# data. Configs for other data and input sizes inherit this.
_base_ = ['pose_runtime.py']

# ImageNet-pretrained ResNet-50 (torchvision's resnet50-0676ba61.pth): downloaded once into torch's hub cache, read by the safe loader.
# Override: --cfg-options model.backbone.init_cfg.checkpoint=LOCAL_FILE, or model.backbone.init_cfg=None (scratch).
imagenet_checkpoint = 'torchvision://resnet50'  # resnet50-0676ba61.pth (IMAGENET1K_V1), as MMPose's MSPN

train_cfg = dict(max_epochs=210, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # warm-up
    dict(type='MultiStepLR', begin=0, end=210, milestones=[170, 200], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=256)

# One target per Gaussian kernel; the units of each stage are supervised coarse-to-fine (level_indices).
kernel_sizes = [23, 17, 13, 11, 7]
codec = [
    dict(type='MegviiHeatmap', input_size=(288, 384), heatmap_size=(72, 96), kernel_size=kernel_size)
    for kernel_size in kernel_sizes
]

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='MSPN',
        unit_channels=256,
        num_stages=4,
        num_units=4,
        num_blocks=[3, 4, 6, 3],
        norm_cfg=dict(type='BN'),
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint)),
    head=dict(
        type='MSPNHead',
        out_shape=(96, 72),
        unit_channels=256,
        out_channels=16,
        num_stages=4,
        num_units=4,
        norm_cfg=dict(type='BN'),
        level_indices=[0, 1, 2, 3] * 3 + [1, 2, 3, 4],
        loss=([dict(type='KeypointMSELoss', use_target_weight=True, loss_weight=0.25)] * 3
              + [dict(type='KeypointOHKMMSELoss', use_target_weight=True, loss_weight=1.)]) * 4,
        decoder=codec[-1]),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='LIPRandomBBoxTransform'),  # MMPose's RandomBBoxTransform, faster draw
    dict(type='TopdownAffine', input_size=codec[0]['input_size']),
    dict(type='GenerateTarget', multilevel=True, encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec[0]['input_size']),
    dict(type='PackPoseInputs'),
]

# Loader settings and datasets come from pose_runtime.py; this file adds its pipelines.
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
