# CE2P / HRNet-Seg LIP recipe: SGD momentum 0.9, weight decay 5e-4, lr 7e-3 for a total batch of 40,
# polynomial decay (power 0.9) per iteration, 150 epochs.
optimizer = dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=0.0005)
# Mixed precision on CUDA, float32 elsewhere (docs/gpu.md; `lip-toolkit train --no-gpu-speed` turns it off).
optim_wrapper = dict(type='CudaAmpOptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=150, by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=150, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# `lip-toolkit train --auto-scale-lr` rescales lr for another total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=40)
