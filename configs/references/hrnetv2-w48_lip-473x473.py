# HRNet-Semantic-Segmentation's LIP HRNetV2-W48 (master README's OneDrive/BaiduYun file, the HRNet-OCR branch's
# hrnet_lip_5583_torch04.pth, or the pytorch-v1.1 README's file) run as its tools/test.py runs it with
# TEST.FLIP_TEST True on list/lip/testvalList.txt.
# Published: 56.04 LIP val mIoU (master README; 55.83 for the HRNet-OCR branch's file, 55.8 for pytorch-v1.1's).
# The first two ran InPlaceABNSync, the third BatchNorm; `convert` tells them apart (docs/convert.md). Convert,
# then evaluate:
#   lip-toolkit convert hrnet-seg HRNET_LIP.pth hrnet_lip.pth
#   lip-toolkit evaluate configs/references/hrnetv2-w48_lip-473x473.py hrnet_lip.pth --data-root LIP
# Expected: 56.04 up to GPU/CPU arithmetic (network, normalisation, flip and test-time geometry -- stretch to
# 473x473, flip averaged in logits, exp(logits) resized to the original size -- are the reference's).
#
# Network (lib/models/seg_hrnet.py): HRNetV2-W48; the four branches bilinearly up-sampled (align_corners=False)
# and concatenated (720 ch) -> 1x1 conv (+bias, folded into the BN by the converter) + BN + ReLU -> classifier.
_base_ = [
    '../_base_/parsing_hrnetv2_w48.py',
    '../_base_/datasets/lip_parsing.py',
    '../_base_/parsing_default_runtime.py',
    '../_base_/parsing_schedule_150e.py',
]
crop_size = (473, 473)
model = dict(
    # lib/datasets/base_dataset.py input_transform: BGR -> RGB, /255, ImageNet mean/std.
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    # The reference's fuse layers interpolate once, to the target branch's size: with 473 the branches are
    # 119/60/30/15 pixels, where MMSeg's up-sample-by-2^k-then-resize gives other values.
    backbone=dict(type='HRNetFuseToSize', init_cfg=None),  # all weights come from the converted file
    # testval: every image stretched to 473x473 (cv2.resize, bilinear), flip with the 14/15, 16/17, 18/19 swap
    # averaged in logits, then exp(logits) resized (bilinear) to the original size before the argmax.
    test_cfg=dict(mode='whole', input_size=crop_size, keep_ratio=False, flip=True, resize_in='exp'))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: the ground truth keeps its original size
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
