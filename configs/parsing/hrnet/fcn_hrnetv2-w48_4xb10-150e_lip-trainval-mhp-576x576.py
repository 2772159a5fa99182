# HRNetV2-W48 at 576x576, trained on LIP train + val + multi-human parsing crops.
# Target (the seed's LIP test mIoU): 61.96
_base_ = [
    '../../_base_/parsing_hrnetv2_w48.py',
    '../../_base_/parsing_lip-576x576.py',
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[_base_.lip_train, _base_.lip_val_for_training, _base_.cihp_crops, _base_.mhp_crops]))
