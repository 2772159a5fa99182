# 4-stage MSPN-50, 384x288, trained on LIP train + LIP val + COCO + AI Challenger (the submission setting: LIP val
# is training data here, so the val scores logged during training are not held-out numbers).
# Target (the seed's LIP test PCKh@0.5): 91.9
_base_ = ['../../_base_/pose_4xmspn50.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CombinedDataset',
        metainfo=_base_.lip_pose_metainfo,
        datasets=[
            _base_.lip_train_dataset,
            dict(_base_.lip_train_dataset, split='val', test_mode=False),
            _base_.coco_to_lip_dataset,
            _base_.aic_to_lip_dataset,
        ],
        pipeline=_base_.train_pipeline,
        test_mode=False))
