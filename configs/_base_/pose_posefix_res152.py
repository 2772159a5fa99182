# PoseFix refiner for LIP's 16 joints at 384x288 (reference: mks0601/PoseFix_RELEASE main/config.py): ResNet-152
# whose conv1 also takes the coarse pose (one Gaussian map per joint, sigma 9 at 384x288), three 4x4 deconvs,
# soft-argmax output; heatmap cross-entropy + L1 coordinate loss; Adam 5e-4 divided by 10 at epochs 90 and 120,
# 140 epochs, batch 16, scale +-30 %, rotation 40 deg. Trained on LIP train with poses synthesised from the ground
# truth; configs for other data inherit this.
_base_ = ['pose_runtime.py']

# ImageNet-pretrained ResNet-152 (torchvision's resnet152-394f9c45.pth): downloaded once into torch's hub cache, read by the safe loader.
# Override: --cfg-options model.backbone.init_cfg.checkpoint=LOCAL_FILE, or model.backbone.init_cfg=None (scratch).
imagenet_checkpoint = 'torchvision://resnet152'  # resnet152-394f9c45.pth (IMAGENET1K_V1)

train_cfg = dict(max_epochs=140, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=140, milestones=[90, 120], gamma=0.1, by_epoch=True)]
auto_scale_lr = dict(base_batch_size=128)

codec = dict(type='RegressionLabel', input_size=(288, 384))
coarse_pose_sigma = 9.0

model = dict(
    type='PoseFixEstimator',
    coarse_pose_sigma=coarse_pose_sigma,
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='PoseFixResNet',
        depth=152,
        num_pose_channels=16,
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint)),
    head=dict(
        type='PoseFixHead',
        in_channels=2048,
        in_featuremap_size=(9, 12),  # input / 32, (w, h)
        num_joints=16,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='L1Loss', use_target_weight=True),
        heatmap_loss_weight=1.0,
        decoder=codec),
    test_cfg=dict(flip_test=True, shift_coords=True))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='LIPRandomBBoxTransform', shift_prob=0, scale_factor=(0.7, 1.3), rotate_factor=40, rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='SynthesizeCoarsePose', metainfo=_base_.lip_pose_metainfo['from_file']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseFixInputs'),
]
# Validation during training refines poses synthesised from the val ground truth (a proxy score; seed 0: the same
# poses every time). Refining real predictions (`lip-toolkit evaluate CONFIG CKPT --input PRED.csv`) uses
# test_pipeline.
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='SynthesizeCoarsePose', metainfo=_base_.lip_pose_metainfo['from_file'], seed=0),
    dict(type='PackPoseFixInputs'),
]
test_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='CoarsePoseToInput'),
    dict(type='PackPoseFixInputs'),
]

# Loader settings and datasets come from pose_runtime.py; this file adds its pipelines and batch size.
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
