# 4-stage MSPN-50, 384x288, trained on LIP train + COCO train2017 (COCO joints mapped to LIP's 16).
# Target (the seed's LIP test PCKh@0.5): 91.4
_base_ = ['../../_base_/pose_4xmspn50.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CombinedDataset',
        metainfo=_base_.lip_pose_metainfo,
        datasets=[
            _base_.lip_train_dataset,
            _base_.coco_to_lip_dataset,
        ],
        pipeline=_base_.train_pipeline,
        test_mode=False))
