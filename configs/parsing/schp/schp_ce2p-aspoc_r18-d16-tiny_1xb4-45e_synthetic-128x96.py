# SCHP's losses on the demo's tiny CE2P-OCNet (configs/demo/parsing_ce2p-aspoc_r18-d16-tiny_1xb4-20e_synthetic-
# 128x96.py, 21-23 synthetic val mIoU in 20 epochs): per parsing output 0.5 cross-entropy + 0.5 Lovasz-softmax,
# class-balanced edge cross-entropy and the parsing-edge consistency term (SCHPHead), as
# schp_ce2p_r101-d16_3xb16-150e_lip-473x473.py; the demo's class-weighted cross-entropy gives way to SCHP's
# unweighted one (Lovasz-softmax already balances the classes). For benchmarks/bench_self_correction.py: SCHP's
# 150 / 100 / 10 epochs at 45 / 30 / 3.
_base_ = ['../../demo/parsing_ce2p-aspoc_r18-d16-tiny_1xb4-20e_synthetic-128x96.py']
model = dict(
    decode_head=dict(
        type='SCHPHead',
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.5, avg_non_ignore=True),
            dict(type='LovaszLoss', loss_type='multi_class', classes='present', per_image=False,
                 reduction='none', loss_weight=0.5),
        ],
        loss_edge=dict(type='ClassBalancedEdgeLoss', loss_weight=1.0),
        loss_consistency=dict(type='ParsingEdgeConsistencyLoss', edge_width=3, loss_weight=0.1)))
max_epochs = 45
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=max_epochs, max_keep_ckpts=1, save_best=None))
