# Datasets for LIP pose training, alone or jointly with COCO and AI Challenger mapped to LIP's 16 joints
# (docs/pose_data.md). Model configs inherit this file and build their dataloaders from the pieces, e.g.
#
#   train_dataloader = dict(dataset=dict(
#       type='CombinedDataset', metainfo=_base_.lip_pose_metainfo,
#       datasets=[_base_.lip_train_dataset, _base_.coco_to_lip_dataset, _base_.aic_to_lip_dataset],
#       pipeline=train_pipeline))
#   val_dataloader = dict(dataset=dict(_base_.lip_val_dataset, pipeline=val_pipeline))
#   val_evaluator = _base_.lip_val_evaluator
#
# The image pipelines (input size, codec) belong to the model config; the sub-dataset pipelines here only map
# joints, so every sample leaves them in LIP's 16-joint space with the same fields.
custom_imports = dict(imports=['lip_toolkit.pose.plugins'], allow_failed_imports=False)

lip_data_root = 'data/LIP'
coco_data_root = 'data/coco'
aic_data_root = 'data/aic'

# An absolute path, so the metainfo is found from any working directory.
lip_pose_metainfo = dict(from_file='{{ fileDirname }}/lip_pose.py')

# KeypointConverter mappings (source joint, LIP joint); a pair is the midpoint of two joints. LIP joints left
# out are masked (weight 0). Must equal lip_toolkit.pose.datasets.mappings (a test checks).
# LIPKeypointConverter is MMPose's KeypointConverter that also sets LIP's flip indices (MMPose's own fails on
# a mapping with more entries than source joints, as AI Challenger's 15 entries for 14 joints).
lip_to_lip = [(i, i) for i in range(16)]
# COCO has no pelvis (mid-hip proxy), spine, neck or head top (masked).
coco_to_lip = [(16, 0), (14, 1), (12, 2), (11, 3), (13, 4), (15, 5), ((11, 12), 6), (10, 10), (8, 11),
               (6, 12), (5, 13), (7, 14), (9, 15)]
# AI Challenger has neck and head top; pelvis is mid-hip; spine is masked.
aic_to_lip = [(8, 0), (7, 1), (6, 2), (9, 3), (10, 4), (11, 5), ((6, 9), 6), (13, 8), (12, 9), (2, 10),
              (1, 11), (0, 12), (3, 13), (4, 14), (5, 15)]

lip_train_dataset = dict(
    type='LIPPoseDataset',
    data_root=lip_data_root,
    split='train',
    pipeline=[dict(type='LIPKeypointConverter', num_keypoints=16, mapping=lip_to_lip)])
coco_to_lip_dataset = dict(
    type='CocoDataset',
    data_root=coco_data_root,
    data_mode='topdown',
    ann_file='annotations/person_keypoints_train2017.json',
    data_prefix=dict(img='train2017/'),
    pipeline=[dict(type='LIPKeypointConverter', num_keypoints=16, mapping=coco_to_lip)])
# AI Challenger in its own JSON format (as released).
aic_to_lip_dataset = dict(
    type='AicRawDataset',
    data_root=aic_data_root,
    data_mode='topdown',
    ann_file='ai_challenger_keypoint_train_20170909/keypoint_train_annotations_20170909.json',
    data_prefix=dict(img='ai_challenger_keypoint_train_20170909/keypoint_train_images_20170902/'),
    pipeline=[dict(type='LIPKeypointConverter', num_keypoints=16, mapping=aic_to_lip)])
# AI Challenger converted to COCO style (MMPose's aic_train.json), as an alternative to the one above.
aic_coco_style_to_lip_dataset = dict(
    type='AicDataset',
    data_root=aic_data_root,
    data_mode='topdown',
    ann_file='annotations/aic_train.json',
    data_prefix=dict(img='ai_challenger_keypoint_train_20170902/keypoint_train_images_20170902/'),
    pipeline=[dict(type='LIPKeypointConverter', num_keypoints=16, mapping=aic_to_lip)])

lip_val_dataset = dict(type='LIPPoseDataset', data_root=lip_data_root, split='val')
lip_test_dataset = dict(type='LIPPoseDataset', data_root=lip_data_root, split='test')
lip_val_evaluator = dict(type='LIPPCKhMetric')
