# Tiny HRNetV2 (four branches 8/16/32/64 channels, one block each) with the HRNetV2 segmentation head (branches
# up-sampled and concatenated, 1x1 conv, classifier): the demo-sized variant of configs/parsing/hrnet/*.
_base_ = [
    '../_base_/parsing_hrnetv2_w48.py',
    '../_base_/parsing_demo.py',
]
bn = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        norm_cfg=bn,
        init_cfg=None,  # from scratch
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(16, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(8, 16)),
            stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1),
                        num_channels=(8, 16, 32)),
            stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                        num_channels=(8, 16, 32, 64)))),
    decode_head=dict(in_channels=[8, 16, 32, 64], channels=sum([8, 16, 32, 64]), norm_cfg=bn))
