# Tiny CE2P-OCNet (ASP-OC context) on a narrow dilated ResNet-18 for synthetic LIP on a CPU: the structure of
# configs/parsing/ce2p/ce2p-aspoc_r101-d16_* (stride-4 skip, edge branch on stages 1-3, fusion) at a fraction of
# the width, and at output stride 8 (CE2P's "D8" variant): a 96-pixel input leaves a 6x6 map at stride 16.
_base_ = [
    '../_base_/parsing_ce2p-aspoc_r101-d16.py',
    '../_base_/parsing_demo.py',
]
bn = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                  norm_cfg=bn, init_cfg=None),
    decode_head=dict(
        in_channels=[16, 32, 64, 128],
        channels=32,
        context=dict(channels=32, branch_channels=16, key_channels=8, value_channels=16, dilations=(2, 4, 6)),
        skip_channels=8,
        edge_channels=16,
        norm_cfg=bn))
