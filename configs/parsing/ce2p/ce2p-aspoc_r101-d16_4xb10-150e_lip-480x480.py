# CE2P-OCNet (CE2P with ASP-OC context), dilated ResNet-101 (output stride 16), 480x480, LIP train only.
# Target (the seed's LIP test mIoU): 54.20
_base_ = [
    '../../_base_/parsing_ce2p-aspoc_r101-d16.py',
    '../../_base_/parsing_lip-480x480.py',
]
