# HRNetV2-W48 for segmentation (HRNet/HRNet-Semantic-Segmentation, LIP: 65.8M parameters): MMSeg's HRNet
# backbone; the four branches up-sampled and concatenated (720 ch) -> 1x1 conv 720 + BN + ReLU -> 1x1 classifier.
_base_ = 'mmseg::_base_/models/fcn_hr18.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size_divisor=32),  # batches padded to a multiple of the coarsest branch
    pretrained=None,
    backbone=dict(
        norm_cfg=norm_cfg,
        # MMSeg's ImageNet HRNetV2-W48 (hrnetv2_w48-d2186c55.pth), downloaded once into torch's hub cache and read
        # by the safe loader. Offline or your own copy: --cfg-options model.backbone.init_cfg.checkpoint=LOCAL_FILE
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w48'),
        extra=dict(
            stage2=dict(num_channels=(48, 96)),
            stage3=dict(num_channels=(48, 96, 192)),
            stage4=dict(num_channels=(48, 96, 192, 384)))),
    decode_head=dict(
        in_channels=[48, 96, 192, 384],
        channels=sum([48, 96, 192, 384]),
        num_classes=20,
        norm_cfg=norm_cfg))
