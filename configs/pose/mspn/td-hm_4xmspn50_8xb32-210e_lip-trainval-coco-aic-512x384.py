# 4-stage MSPN-50 at 512x384 (heatmaps 96x128, kernels 15/11/9/7/5 scaled x2 to odd 31/23/19/15/11), trained on
# LIP train + LIP val + COCO + AI Challenger.
# Target (the seed's LIP test PCKh@0.5): 92.0
_base_ = ['./td-hm_4xmspn50_8xb32-210e_lip-trainval-coco-aic-384x288.py']

kernel_sizes = [31, 23, 19, 15, 11]
codec = [
    dict(type='MegviiHeatmap', input_size=(384, 512), heatmap_size=(96, 128), kernel_size=kernel_size)
    for kernel_size in kernel_sizes
]
model = dict(head=dict(out_shape=(128, 96), decoder=codec[-1]))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='LIPRandomBBoxTransform'),  # MMPose's RandomBBoxTransform, faster draw
    dict(type='TopdownAffine', input_size=codec[0]['input_size']),
    dict(type='GenerateTarget', multilevel=True, encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec[0]['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
