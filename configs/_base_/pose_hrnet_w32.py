# HRNet-W32 top-down heatmap model for LIP's 16 joints at 384x288, trained on LIP train: MMPose's HRNet recipe
# (mmpose td-hm_hrnet-w32_8xb32-210e_coco-384x288: Adam 5e-4, 210 epochs, MSRA heatmaps sigma 3, flip test with
# heatmap shift), with LIP data and the LIP PCKh metric. Configs for other data and input sizes inherit this.
_base_ = ['pose_runtime.py']

# ImageNet-pretrained HRNet-W32 (MMPose's hrnet_w32-36af842e.pth): downloaded once into torch's hub cache, read by the safe loader.
# Override: --cfg-options model.backbone.init_cfg.checkpoint=LOCAL_FILE, or model.backbone.init_cfg=None (scratch).
imagenet_checkpoint = 'https://download.openmmlab.com/mmpose/pretrain_models/hrnet_w32-36af842e.pth'

train_cfg = dict(max_epochs=210, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # warm-up
    dict(type='MultiStepLR', begin=0, end=210, milestones=[170, 200], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=256)

codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ), num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4), num_channels=(32, 64)),
            stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                        num_channels=(32, 64, 128)),
            stage4=dict(num_modules=3, num_branches=4, block='BASIC', num_blocks=(4, 4, 4, 4),
                        num_channels=(32, 64, 128, 256))),
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint)),
    head=dict(
        type='HeatmapHead',
        in_channels=32,
        out_channels=16,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='LIPRandomBBoxTransform'),  # MMPose's RandomBBoxTransform with a faster truncated-normal draw
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=dict(codec, type='LIPMSRAHeatmap')),  # MSRAHeatmap targets, vectorised
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]

# Loader settings and datasets come from pose_runtime.py; this file adds its pipelines.
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
