# LIP parsing at 576x576: the 480 setting with a larger training crop and test size.
_base_ = './parsing_lip-480x480.py'
crop_size = (576, 576)
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
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# Training sets the configs combine (ConcatDataset): LIP train, LIP val used as training data (the submission
# setting), and the multi-human parsing crops in LIP layout and classes written by `lip-toolkit data cihp|mhp`.
lip_train = dict(type='LIPParsingDataset', data_root='data/LIP', split='train', pipeline=train_pipeline)
lip_val_for_training = dict(type='LIPParsingDataset', data_root='data/LIP', split='val', pipeline=train_pipeline)
cihp_crops = dict(type='LIPParsingDataset', data_root='data/cihp_lip', split='train', pipeline=train_pipeline)
mhp_crops = dict(type='LIPParsingDataset', data_root='data/mhp_lip', split='train', pipeline=train_pipeline)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
