# HRNetV2-W48 (four branches concatenated, 1x1 conv, classifier; HRNet-Semantic-Segmentation's LIP model),
# 480x480, LIP train only.
# Target (the seed's LIP test mIoU): 55.64
_base_ = [
    '../../_base_/parsing_hrnetv2_w48.py',
    '../../_base_/parsing_lip-480x480.py',
]
