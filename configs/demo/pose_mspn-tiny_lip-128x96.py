# Tiny MSPN for the demo and the tests: the code path of td-hm_4xmspn50_8xb32-210e_lip-coco-384x288 (MSPN stages
# with cross-stage aggregation, MSPNHead with coarse-to-fine Megvii targets, MSE + OHKM, flip test) with 2 stages of
# 2 units of one residual block, 32 unit channels and a 128x96 input, so that it trains on synthetic LIP on a CPU.
# (MMPose's MSPN fixes the ResNet widths, so fewer units is how it gets small: 64-512 channels.)
# Target: none (synthetic data).
_base_ = ['../_base_/pose_4xmspn50.py']

train_cfg = dict(max_epochs=40, val_interval=40)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=40, milestones=[30], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=16)
# a checkpoint every 5 epochs: an interrupted demo member can resume (train --resume)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=5, save_best=None, max_keep_ckpts=1))
custom_hooks = []

# the last kernels of the 256x192 recipe (9/7/5 for 64x48) scaled to the 32x24 heatmap (x0.5, odd)
kernel_sizes = [5, 3, 3]
codec = [
    dict(type='MegviiHeatmap', input_size=(96, 128), heatmap_size=(24, 32), kernel_size=kernel_size)
    for kernel_size in kernel_sizes
]
model = dict(
    backbone=dict(unit_channels=32, num_stages=2, num_units=2, num_blocks=[1, 1], init_cfg=None),
    head=dict(
        out_shape=(32, 24),
        unit_channels=32,
        num_stages=2,
        num_units=2,
        level_indices=[0, 1] + [1, 2],
        loss=([dict(type='KeypointMSELoss', use_target_weight=True, loss_weight=0.25)]
              + [dict(type='KeypointOHKMMSELoss', use_target_weight=True, loss_weight=1., topk=8)]) * 2,
        decoder=codec[-1]))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_prob=0),
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
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
