# PoseFix (ResNet-152, 384x288) trained on LIP train + COCO train2017 only, so that its refinement can be measured
# on LIP val (`lip-toolkit evaluate CONFIG CKPT --input val_pred.csv`). Not a row of the seed's table.
# Target (the seed's LIP test PCKh@0.5): none published; on val, above the PCKh of the CSV it refines.
_base_ = ['../../_base_/pose_posefix_res152.py']

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
