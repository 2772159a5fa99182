# Tiny FCN on a four-stage UNet (8-16-32-64 channels) for synthetic LIP at 64x64: the small, fast parsing model
# of the self-correction benchmark (benchmarks/bench_self_correction.py, docs/self_correction.md). A plain MMSeg
# model (UNet backbone, FCNHead, cross-entropy) on purpose: self-correction is a training option for any
# parsing config, not a CE2P feature.
_base_ = ['../../_base_/parsing_demo.py']
crop_size = (64, 64)
bn = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=crop_size,
                           test_cfg=dict(size_divisor=8)),  # the UNet needs sides divisible by 8
    backbone=dict(type='UNet', in_channels=3, base_channels=8, num_stages=4, strides=(1, 1, 1, 1),
                  enc_num_convs=(2, 2, 2, 2), dec_num_convs=(2, 2, 2), downsamples=(True, True, True),
                  enc_dilations=(1, 1, 1, 1), dec_dilations=(1, 1, 1), norm_cfg=bn, act_cfg=dict(type='ReLU'),
                  upsample_cfg=dict(type='InterpConv'), norm_eval=False),
    decode_head=dict(type='FCNHead', in_channels=8, in_index=3, channels=8, num_convs=1, concat_input=False,
                     dropout_ratio=0.0, num_classes=20, norm_cfg=bn, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LIPRandomAffine', crop_size=crop_size, scale_factor=0.1, rotation_factor=30,
         rotation_prob=0.0, img_pad_val=0, seg_pad_val=255),
    dict(type='LIPRandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
max_epochs = 75
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=max_epochs, max_keep_ckpts=1, save_best=None))
