# Runtime shared by every parsing config: MMSeg scope, lip-toolkit's parsing plugins, epoch-based logging.
default_scope = 'mmseg'
custom_imports = dict(imports=['lip_toolkit.parsing.plugins'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,  # GPU speed setting (docs/gpu.md)
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=3,
                    save_best='mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    # checkpoints as plain data, so that a plain torch.load(weights_only=True) reads them, also when MMSeg's own
    # tools/train.py wrote them (docs/checkpoints.md)
    safe_checkpoint=dict(type='SafeCheckpointHook'))
