"""GPU speed settings of the full-size configs, inert on a CPU, and the one switch that turns them off.

The full-size configs train with (docs/gpu.md):

* mixed precision: ``optim_wrapper = dict(type='CudaAmpOptimWrapper')``, mmengine's ``AmpOptimWrapper`` when CUDA
  is available and a plain ``OptimWrapper`` (float32) otherwise, because mmengine's refuses to be built without a
  GPU. The autocast type is bfloat16 where the GPU computes it natively (Ampere and later: A100, H100, H200):
  float32's exponent range, so no loss scaling and no overflow in the attention logits of OCNet or in
  small heatmap-loss gradients; float16 with dynamic loss scaling on older GPUs (V100, T4), where bfloat16 is
  emulated and slow. Evaluation stays in float32.
* ``env_cfg.cudnn_benchmark=True``: cuDNN picks the fastest kernels for the fixed training crop (nondeterministic
  kernel choice, which is why the switch turns it off too);
* ``pin_memory=True`` in the dataloaders (page-locked batches copy to the GPU asynchronously) and persistent
  workers (no worker restart each epoch).

``channels_last`` is not set: it needs measuring per model on the GPU (the DCN and OCNet layers reorder memory),
and no GPU measurement has been made yet (docs/gpu.md).

:func:`apply_gpu_speed` is what ``lip-toolkit train`` runs on every config: ``enabled=False`` (``--no-gpu-speed``)
turns mixed precision, cudnn benchmark and pinned memory off; without CUDA it only drops ``pin_memory`` (which
would warn on every CPU run and do nothing).
"""
from typing import Optional, Union

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

AMP_WRAPPER = 'CudaAmpOptimWrapper'
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def amp_dtype_for_this_gpu() -> str:
    """'bfloat16' where the GPU computes it natively (compute capability 8.0+), else 'float16'."""
    if torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8:
        return 'bfloat16'
    return 'float16'


def cuda_amp_optim_wrapper(optimizer, dtype: Optional[str] = 'auto',
                           loss_scale: Union[str, float, dict, None] = None, **kwargs) -> OptimWrapper:
    """mmengine's ``AmpOptimWrapper`` on CUDA, a plain ``OptimWrapper`` (float32) without CUDA.

    Args:
        optimizer: the optimizer (mmengine's optimizer-wrapper constructor passes it).
        dtype: ``'auto'`` (:func:`amp_dtype_for_this_gpu`), ``'bfloat16'`` or ``'float16'``.
        loss_scale: mmengine's ``loss_scale``; default ``'dynamic'`` for float16, none for bfloat16 (its range is
            float32's, so gradients cannot underflow the way float16's do).
        **kwargs: ``OptimWrapper`` arguments (``clip_grad``, ``accumulative_counts``).
    """
    if not torch.cuda.is_available():
        return OptimWrapper(optimizer=optimizer, **kwargs)
    if dtype == 'auto':
        dtype = amp_dtype_for_this_gpu()
    if loss_scale is None:
        loss_scale = 'dynamic' if dtype == 'float16' else dict(enabled=False)
    return AmpOptimWrapper(optimizer=optimizer, dtype=dtype, loss_scale=loss_scale, **kwargs)


# mmengine's root registry: MMPose's and MMSeg's optimizer-wrapper registries find it through their parent.
OPTIM_WRAPPERS.register_module(name=AMP_WRAPPER, module=cuda_amp_optim_wrapper, force=True)


def apply_gpu_speed(cfg, enabled: bool = True, cuda: Optional[bool] = None):
    """Turn the config's GPU speed settings off (``enabled=False``), or off where they do nothing (no CUDA).

    Returns ``cfg`` (changed in place).
    """
    if cuda is None:
        cuda = torch.cuda.is_available()
    if not enabled:
        optim_wrapper = cfg.get('optim_wrapper')
        if optim_wrapper is not None and optim_wrapper.get('type') in (AMP_WRAPPER, 'AmpOptimWrapper'):
            optim_wrapper.type = 'OptimWrapper'
            for key in ('dtype', 'loss_scale', 'use_fsdp'):
                optim_wrapper.pop(key, None)
        if cfg.get('env_cfg') is not None:
            cfg.env_cfg.cudnn_benchmark = False
    if not enabled or not cuda:
        for name in DATALOADERS:
            if cfg.get(name) is not None and cfg[name].get('pin_memory'):
                cfg[name].pin_memory = False
    return cfg

