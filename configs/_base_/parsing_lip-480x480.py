# LIP parsing at 480x480 on top of the parsing data base (configs/_base_/datasets/lip_parsing.py): CE2P's
# training warp and flip, edges for CE2P; testing keeps the aspect ratio (the scale CE2P's centred test warp uses,
# `lip-toolkit evaluate` reads this Resize and applies the same), ground truth at its original size.
_base_ = [
    './datasets/lip_parsing.py',
    './parsing_default_runtime.py',
    './parsing_schedule_150e.py',
]
crop_size = (480, 480)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='LIPRandomAffine', crop_size=crop_size, scale_factor=0.25, rotation_factor=30,
         rotation_prob=0.6, img_pad_val=0, seg_pad_val=255),
    dict(type='LIPRandomFlip', prob=0.5),
    dict(type='GenerateEdge', edge_width=3, ignore_index=255),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadAnnotations'),  # after Resize: the ground truth keeps its original size
    dict(type='PackSegInputs'),
]
# Training sets the configs combine (ConcatDataset): LIP train, LIP val used as training data (the submission
# setting), and the multi-human parsing crops in LIP layout and classes written by `lip-toolkit data cihp|mhp`.
lip_train = dict(type='LIPParsingDataset', data_root='data/LIP', split='train', pipeline=train_pipeline)
lip_val_for_training = dict(type='LIPParsingDataset', data_root='data/LIP', split='val', pipeline=train_pipeline)
cihp_crops = dict(type='LIPParsingDataset', data_root='data/cihp_lip', split='train', pipeline=train_pipeline)
mhp_crops = dict(type='LIPParsingDataset', data_root='data/mhp_lip', split='train', pipeline=train_pipeline)
# 4 GPUs x 10 images = the total batch of 40 the learning rate is set for.
train_dataloader = dict(batch_size=10, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
