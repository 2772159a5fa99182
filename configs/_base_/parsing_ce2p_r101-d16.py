# CE2P on a dilated ResNet-101 (output stride 16), as in liutinglt/CE2P networks/CE2P.py: deep stem of 3x3 convs,
# layer3 stride 2, layer4 stride 1 dilation 2 (every block), PSP context, 48-ch stride-4 skip, edge branch on
# stages 1-3, fusion. InPlaceABN = BN + LeakyReLU(0.01) in the head. The stem is MMSeg's ResNetV1c one (32-32-64,
# CE2P has 64-64-128: 0.1M fewer parameters) so that MMSeg's ImageNet ResNet-101-V1c weights load unchanged
# (resnet101_v1c-e67eebb6.pth, downloaded once into torch's hub cache and read by the safe loader; offline or your
# own copy: --cfg-options model.backbone.init_cfg.checkpoint=LOCAL_FILE, docs/parsing_models.md).
norm_cfg = dict(type='SyncBN', requires_grad=True)
head_act_cfg = dict(type='LeakyReLU', negative_slope=0.01)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16)  # batches padded to a multiple of the output stride
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        contract_dilation=False,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')),
    decode_head=dict(
        type='CE2PHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=(0, 1, 2, 3),
        channels=256,
        context=dict(type='PSPContext', channels=512, pool_channels=512, pool_scales=(1, 2, 3, 6)),
        skip_channels=48,
        edge_channels=256,
        edge_stages=(0, 1, 2),
        dropout_ratio=0.1,
        num_classes=20,
        norm_cfg=norm_cfg,
        act_cfg=head_act_cfg,
        align_corners=True,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, avg_non_ignore=True),
        loss_edge=dict(type='ClassBalancedEdgeLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
