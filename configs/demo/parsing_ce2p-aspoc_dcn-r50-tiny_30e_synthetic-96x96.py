# Tiny CE2P-OCNet on a narrow ResNet-50 with modulated deformable convs (DCNv2 on torchvision's op) in stages 2-4:
# the demo-sized variant of configs/parsing/ce2p/ce2p-aspoc_dcn-r101-d16_* ("DeResNet-101").
_base_ = ['./parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py']
model = dict(
    backbone=dict(
        depth=50,
        base_channels=8,
        stem_channels=16,
        dcn=dict(type='DCNv2TV', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)),
    decode_head=dict(in_channels=[32, 64, 128, 256]))
