# CE2P-OCNet on "DeResNet-101", read as a ResNet-101 with modulated deformable 3x3 convs (DCNv2) in stages 2-4
# (docs/parsing_models.md says why), 576x576, LIP train + val + multi-human crops. DCNv2TV is mmcv's DCNv2 on
# torchvision's op: no mmcv CUDA op needed on a GPU, and the same checkpoints load into either.
# Target (the seed's LIP test mIoU): 62.17
_base_ = [
    '../../_base_/parsing_ce2p-aspoc_r101-d16.py',
    '../../_base_/parsing_lip-576x576.py',
]
model = dict(
    backbone=dict(
        dcn=dict(type='DCNv2TV', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[_base_.lip_train, _base_.lip_val_for_training, _base_.cihp_crops, _base_.mhp_crops]))
