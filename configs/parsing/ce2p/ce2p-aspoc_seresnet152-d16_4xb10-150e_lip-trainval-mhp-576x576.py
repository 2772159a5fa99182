# CE2P-OCNet on SE-ResNet-152 (MMPose's SEResNet across scopes; its 7x7 stem, as its ImageNet weights have;
# layer4 stride 1 dilation 2), 576x576, LIP train + val + multi-human crops (the seed lists it after the 576 R-101
# row; same data and size assumed).
# Target (the seed's LIP test mIoU): 61.00
_base_ = [
    '../../_base_/parsing_ce2p-aspoc_r101-d16.py',
    '../../_base_/parsing_lip-576x576.py',
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpose.SEResNet',
        depth=152,
        se_ratio=16,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=_base_.norm_cfg,
        norm_eval=False,
        style='caffe',  # the ImageNet weights' bottlenecks stride in conv1 (pretrainedmodels' SEResNetBottleneck)
        # pretrainedmodels' ImageNet SE-ResNet-152 (timm's legacy_seresnet152 file), downloaded once into torch's
        # hub cache, read by the safe loader and converted to MMPose's names while the model initialises.
        init_cfg=dict(type='ConvertedPretrained', reference='se-resnet152-imagenet',
                      checkpoint='https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-cadene/'
                                 'se_resnet152-d17c99b7.pth')))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[_base_.lip_train, _base_.lip_val_for_training, _base_.cihp_crops, _base_.mhp_crops]))
