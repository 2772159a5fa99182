# The demo's tiny HRNet (`lip-toolkit demo`): the tiny config below with batch 8 (twice the updates for the same
# images seen) and 23 epochs. Measured on the demo's data (200 synthetic train images, val PCKh with flip, seed 1,
# one torch thread, CPU s of the whole `train` command under load): batch 16, 20 epochs 47.3; batch 8, 20 epochs
# 49.3 (113 CPU s); batch 8, 25 epochs 54.5 (135 CPU s).
_base_ = ['./pose_hrnet-tiny_lip-128x96.py']
train_cfg = dict(max_epochs=23, val_interval=23)
train_dataloader = dict(batch_size=8)
