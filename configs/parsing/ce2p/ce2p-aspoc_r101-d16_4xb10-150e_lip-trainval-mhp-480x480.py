# CE2P-OCNet R-101, 480x480, trained on LIP train + val + multi-human parsing crops (CIHP and MHP v2 persons in
# LIP's 20 classes, `lip-toolkit data cihp|mhp`).
# Target (the seed's LIP test mIoU): 60.45
_base_ = [
    '../../_base_/parsing_ce2p-aspoc_r101-d16.py',
    '../../_base_/parsing_lip-480x480.py',
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[_base_.lip_train, _base_.lip_val_for_training, _base_.cihp_crops, _base_.mhp_crops]))
