# CE2P's released LIP model (liutinglt/CE2P, LIP_epoch_149.pth) run exactly as its evaluate.py runs it.
# Published: 53.88 LIP val mIoU (CE2P README). Convert, then evaluate:
#   lip-toolkit convert ce2p LIP_epoch_149.pth ce2p_lip.pth
#   lip-toolkit evaluate configs/references/ce2p_r101_lip-473x473.py ce2p_lip.pth --data-root LIP
# Expected: 53.88 up to GPU/CPU arithmetic (network, normalisation, fused output and test-time geometry -- the
# affine warp onto 473x473 and the nearest-neighbour warp back -- are the reference's; see docs/convert.md).
#
# Network (networks/CE2P.py): deep-stem ResNet-101, layer3 stride 2, layer4 stride 1 dilation 2 -> output
# stride 16; every norm an InPlaceABNSync: the backbone's with activation='none' followed by ReLU (ResNetV1c's
# BN + ReLU), the head's with LeakyReLU(0.01) (head act_cfg). Prediction = seg2, the fused output.
_base_ = [
    '../_base_/parsing_ce2p_r101-d16.py',
    '../_base_/datasets/lip_parsing.py',
    '../_base_/parsing_default_runtime.py',
    '../_base_/parsing_schedule_150e.py',
]
crop_size = (473, 473)
model = dict(
    # evaluate.py reads images with cv2 (BGR) and normalises them with ImageNet's RGB mean/std as they are:
    # channel 0 (blue) gets the red statistics. Same here: no channel swap, these numbers in this order.
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=False),
    # The reference's deep stem is 64-64-128 (conv1/conv2/conv3); all weights come from the converted file.
    backbone=dict(stem_channels=128, init_cfg=None),
    decode_head=dict(act_cfg=dict(type='LeakyReLU', negative_slope=0.01)),
    # evaluate.py: the image affinely warped onto 473x473 (aspect kept, zero border), the label map warped back
    # with nearest neighbour (lip_toolkit/parsing/reference_warp.py); single scale, no flip.
    test_cfg=dict(mode='whole', input_size=crop_size, keep_ratio=True, warp='ce2p', flip=False))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadAnnotations'),  # after Resize: the ground truth keeps its original size
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
