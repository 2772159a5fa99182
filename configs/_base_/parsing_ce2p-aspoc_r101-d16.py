# CE2P-OCNet: CE2P with OCNet's ASP-OC in place of the PSP context ("We simply replace the PSP module with ASP-OC
# module within the CE2P framework", OCNet README). ASP-OC: 3x3 conv 512, five 256-ch branches (object context on
# a 2x pooled map with key 128 / value 256, 1x1 conv, 3x3 convs dilated 12/24/36), 1x1 fusion to 512 + dropout 0.1.
_base_ = './parsing_ce2p_r101-d16.py'
model = dict(
    decode_head=dict(
        context=dict(
            _delete_=True,
            type='ASPOCContext',
            channels=512,
            branch_channels=256,
            key_channels=128,
            value_channels=256,
            pool_scale=2,
            dilations=(12, 24, 36),
            dropout_ratio=0.1)))
