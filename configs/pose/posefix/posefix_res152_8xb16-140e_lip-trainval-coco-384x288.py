# PoseFix (ResNet-152, 384x288) trained on LIP train + LIP val + COCO train2017 (COCO joints mapped to LIP's 16),
# input poses synthesised from the ground truth. It refines the final HRNet + MSPN ensemble's predictions:
# `lip-toolkit evaluate CONFIG CKPT --split test --input ensemble_test.csv --out refined_test.csv`.
# Target (the seed's LIP test PCKh@0.5): the seed's pose table gives no number of its own for PoseFix; its input,
# the HRNet + MSPN heatmap ensemble, is 92.0 at best, and PoseFix is kept only where it improves on that.
_base_ = ['../../_base_/pose_posefix_res152.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CombinedDataset',
        metainfo=_base_.lip_pose_metainfo,
        datasets=[
            _base_.lip_train_dataset,
            dict(_base_.lip_train_dataset, split='val', test_mode=False),
            _base_.coco_to_lip_dataset,
        ],
        pipeline=_base_.train_pipeline,
        test_mode=False))
