# Runtime shared by every LIP pose config: MMPose's defaults, lip-toolkit's plugins, the LIP / COCO / AIC dataset
# pieces (datasets/lip_pose_coco_aic.py) and LIP PCKh as the metric.
_base_ = ['mmpose::_base_/default_runtime.py', 'datasets/lip_pose_coco_aic.py']

custom_imports = dict(imports=['lip_toolkit.pose.plugins'], allow_failed_imports=False)
default_scope = 'mmpose'

# Keep the best checkpoint by LIP PCKh@0.5 (the "Avg." of LIP papers).
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, save_best='LIP/PCKh', rule='greater',
                                     max_keep_ckpts=3))

val_evaluator = _base_.lip_val_evaluator
test_evaluator = val_evaluator
