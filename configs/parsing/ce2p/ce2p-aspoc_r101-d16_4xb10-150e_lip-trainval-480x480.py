# CE2P-OCNet R-101, 480x480, trained on LIP train + val (the submission setting: the val scores logged during
# training are not held-out numbers).
# Target (the seed's LIP test mIoU): 56.59
_base_ = [
    '../../_base_/parsing_ce2p-aspoc_r101-d16.py',
    '../../_base_/parsing_lip-480x480.py',
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[_base_.lip_train, _base_.lip_val_for_training]))
