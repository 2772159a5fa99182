# Tiny CE2P-OCNet on a narrow SCNet-50 (MMPose's SCNet, 3x3 convs dilated in the stride-1 stage: DilatedSCNet): the
# demo-sized variant of configs/parsing/ce2p/ce2p-aspoc_scnet101-d16_*.
_base_ = ['./parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='DilatedSCNet',
        depth=50,
        base_channels=8,
        stem_channels=16,
        deep_stem=True,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=_base_.bn,
        norm_eval=False),
    decode_head=dict(in_channels=[32, 64, 128, 256]))
