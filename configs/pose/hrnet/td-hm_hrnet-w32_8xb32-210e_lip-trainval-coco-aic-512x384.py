# HRNet-W32 at 512x384 (heatmaps 96x128, sigma 4: MMPose's sigma 2 at 256x192, scaled with the input), trained on
# LIP train + LIP val + COCO + AI Challenger.
# Target (the seed's LIP test PCKh@0.5): 92.0
_base_ = ['./td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-384x288.py']

codec = dict(type='MSRAHeatmap', input_size=(384, 512), heatmap_size=(96, 128), sigma=4)
model = dict(head=dict(decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='LIPRandomBBoxTransform'),  # MMPose's RandomBBoxTransform with a faster truncated-normal draw
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=dict(codec, type='LIPMSRAHeatmap')),  # MSRAHeatmap targets, vectorised
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
