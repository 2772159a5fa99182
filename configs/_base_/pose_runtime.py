# Runtime shared by every LIP pose config: MMPose's defaults, lip-toolkit's plugins, the LIP / COCO / AIC dataset
# pieces (datasets/lip_pose_coco_aic.py) and LIP PCKh as the metric.
_base_ = ['mmpose::_base_/default_runtime.py', 'datasets/lip_pose_coco_aic.py']

custom_imports = dict(imports=['lip_toolkit.pose.plugins'], allow_failed_imports=False)
default_scope = 'mmpose'

# Keep the best checkpoint by LIP PCKh@0.5 (the "Avg." of LIP papers). Checkpoints are saved as plain data
# (SafeCheckpointHook, docs/checkpoints.md), so that a plain torch.load(weights_only=True) reads them, also when
# MMPose's own tools/train.py wrote them.
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, save_best='LIP/PCKh', rule='greater',
                                     max_keep_ckpts=3),
                     safe_checkpoint=dict(type='SafeCheckpointHook'))

# GPU speed settings (docs/gpu.md; inert on a CPU; `lip-toolkit train --no-gpu-speed` turns them off): mixed
# precision (bfloat16 on Ampere and later, float16 with loss scaling before), cuDNN autotuning, pinned memory.
optim_wrapper = dict(type='CudaAmpOptimWrapper')
env_cfg = dict(cudnn_benchmark=True)

# Loaders of every LIP pose config; model bases add their pipelines (and change what differs).
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=_base_.lip_train_dataset)
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=_base_.lip_val_dataset)
test_dataloader = val_dataloader

val_evaluator = _base_.lip_val_evaluator
test_evaluator = val_evaluator
