# LIP single-person parsing (20 classes) read from the release layout (docs/parsing_data.md).
# Training follows CE2P's data recipe: the whole image warped into a 473x473 crop with random scale (0.25) and
# rotation (30 deg, p=0.6), labels padded with 255, horizontal flip swapping left/right labels, then CE2P edge
# targets (width 3) computed on the final crop. Testing resizes the input to 473x473 and loads the annotation
# AFTER Resize, so the ground truth stays at the original size; MMSeg's segmentor resizes the logits to
# ori_shape before the argmax, and LIPMIoUMetric scores at the original size (it refuses any other size).
dataset_type = 'LIPParsingDataset'
data_root = 'data/LIP'
crop_size = (473, 473)

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
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: the ground truth keeps its original size
    dict(type='PackSegInputs'),
]
# For the test split (no annotations): same as test_pipeline without LoadAnnotations.
predict_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='PackSegInputs'),
]

train_dataloader = dict(
    batch_size=5,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,  # GPU speed setting (docs/gpu.md)
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,  # GPU speed setting (docs/gpu.md)
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline))
# LIP's test split has no public annotations: `test` scores the val split, as the challenge papers report.
test_dataloader = val_dataloader

val_evaluator = dict(type='LIPMIoUMetric')
test_evaluator = val_evaluator
