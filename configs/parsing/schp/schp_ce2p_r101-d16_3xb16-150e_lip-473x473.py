# SCHP's LIP training recipe (GoGoDuck912/Self-Correction-Human-Parsing at eb84c43; published: 59.36 LIP val mIoU
# with its released weights): the CE2P network (networks/AugmentCE2P.py is CE2P's, see
# configs/references/schp_r101_lip-473x473.py) trained with self-correction (docs/self_correction.md).
# Line numbers below are of that commit. What differs from SCHP's code, on purpose, is listed in
# lip_toolkit/parsing/self_correction.py and docs/self_correction.md.
_base_ = [
    '../../_base_/parsing_ce2p_r101-d16.py',
    '../../_base_/datasets/lip_parsing.py',   # 473x473 crops, scale 0.25, rotation 30 (p 0.6), flip 0.5:
    '../../_base_/parsing_default_runtime.py',  # SCHP datasets/datasets.py 24-32, 78-93 (CE2P's recipe)
]
# The ImageNet weights are MMSeg's ResNet-101-V1c (RGB input, the base's normalisation); SCHP's own backbone
# weights take BGR input (its mean/std are in the reference config) -- the normalisation follows the weights.
model = dict(
    decode_head=dict(
        type='SCHPHead',
        # criterion.py 64-70: per parsing output 0.5 * lambda_1 * Lovasz + 0.5 * lambda_1 * CE, lambda_1 = 1
        # (train.py 66); torch's CrossEntropyLoss averages over the labelled pixels (avg_non_ignore).
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.5, avg_non_ignore=True),
            dict(type='LovaszLoss', loss_type='multi_class', classes='present', per_image=False,
                 reduction='none', loss_weight=0.5),
        ],
        # criterion.py 53-58, 84-85: class-balanced edge CE, lambda_2 = 1 (train.py 67)
        loss_edge=dict(type='ClassBalancedEdgeLoss', loss_weight=1.0),
        # criterion.py 93-101: parsing-edge consistency on each parsing output, lambda_3 = 0.1 (train.py 68)
        loss_consistency=dict(type='ParsingEdgeConsistencyLoss', edge_width=3, loss_weight=0.1)))
# train.py 46, 56, 148: batch 16 per GPU on 3 GPUs (DataParallel, 48 in all); drop_last (149)
train_dataloader = dict(batch_size=16, num_workers=8, sampler=dict(type='DefaultSampler', shuffle=True))
# train.py 53-55, 153-154: SGD lr 7e-3, momentum 0.9, weight decay 5e-4
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=0.0005), clip_grad=None)
auto_scale_lr = dict(enable=False, base_batch_size=48)
max_epochs = 150  # train.py 58
# train.py 156-159 and utils/warmup_scheduler.py 49-53, stepped once per epoch: linear warm-up over 10 epochs
# from lr / 100, then cosine from lr down to lr / 100 at epoch 100. From epoch 100 the self-correction hook
# runs SCHP's cycles (warmup_scheduler.py 55): cosine from lr / 2 to lr / 100 every 10 epochs. mmengine's LinearLR
# reaches end_factor at its last step (end - 1), so SCHP's ramp, which reaches lr at epoch 10, ends at 11; the
# cosine starts at 10 from the lr it finds (tests/parsing/test_self_correction.py checks all 150 epochs).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, end_factor=1.0, begin=0, end=11, by_epoch=True),
    dict(type='CosineAnnealingLR', T_max=90, eta_min=0.007 / 100, begin=10, end=100, by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)  # eval every 10 (59)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=3, save_best=None),
    # train.py 63-64, 181-219: cycles of 10 epochs from epoch 100; soft labels (1 - a) z + a onehot with
    # a = 1 / (cycles + 1) (criterion.py 72-76); kl_loss.py 43: F.kl_div's default 'mean' divides by
    # pixels x 20 classes, so SCHP's soft term is 1/20 of a per-pixel cross-entropy at the same weight.
    self_correction=dict(type='SelfCorrectionHook', start_epoch=100, cycle_epochs=10, peak_ratio=0.5,
                         eta_min_ratio=0.01, soft_loss_scale=1 / 20, final_weights='averaged'))
