# CE2P-OCNet on SCNet-101 (MMPose's SCNet with its 3x3 convs dilated in the stride-1 stage: DilatedSCNet),
# 576x576, LIP train + val + multi-human crops.
# Target (the seed's LIP test mIoU): 61.23
_base_ = [
    '../../_base_/parsing_ce2p-aspoc_r101-d16.py',
    '../../_base_/parsing_lip-576x576.py',
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='DilatedSCNet',
        depth=101,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=_base_.norm_cfg,
        norm_eval=False,
        # MMPose's ImageNet SCNet-101 (its own layout); the authors' scnet101-44c5b751.pth converts with
        # `lip-toolkit convert scnet101-imagenet` (docs/parsing_models.md). Downloaded once, read safely.
        init_cfg=dict(type='Pretrained',
                      checkpoint='https://download.openmmlab.com/mmpose/pretrain_models/scnet101-94250a77.pth')))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[_base_.lip_train, _base_.lip_val_for_training, _base_.cihp_crops, _base_.mhp_crops]))
