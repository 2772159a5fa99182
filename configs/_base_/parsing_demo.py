# Tiny parsing runs on synthetic LIP (`lip-toolkit demo`, tests): 96x96 crops, batch 8, single process on a CPU.
# The tiny networks start from random weights and get a few hundred iterations, so: AdamW at lr 0.01 (SGD at the
# full recipe's lr needs far more iterations) and milder augmentation (scale +-10 %, no rotation), both measured
# to learn faster on synthetic LIP (docs/parsing_models.md).
_base_ = [
    './datasets/lip_parsing.py',
    './parsing_default_runtime.py',
]
data_root = 'data/synthetic_lip'
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LIPRandomAffine', crop_size=crop_size, scale_factor=0.1, rotation_factor=30,
         rotation_prob=0.0, img_pad_val=0, seg_pad_val=255),
    dict(type='LIPRandomFlip', prob=0.5),
    dict(type='GenerateEdge', edge_width=3, ignore_index=255),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 30
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=0.01, weight_decay=0.0001))
# No `end`: mmengine ends the schedule at train_cfg.max_epochs, so a shorter run (the demo's, a test's
# --cfg-options train_cfg.max_epochs=N) still decays its learning rate to 0 (with end=30 the demo's 8 epochs
# ended at three quarters of the initial rate).
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='gloo'))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5, max_keep_ckpts=1, save_best=None),
    visualization=dict(type='SegVisualizationHook', draw=False))
randomness = dict(seed=0)
