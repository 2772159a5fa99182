"""Synchronised batch norm that also works on CPU (gloo), for 2-process tests and CPU clusters.

``torch.nn.SyncBatchNorm`` refuses CPU tensors once a process group exists ("expected input tensor to be on GPU"),
and mmcv's ``MMSyncBN`` needs its CUDA ops. This layer all-reduces the batch sums with autograd-aware collectives,
so gradients flow through the global statistics exactly as in SyncBatchNorm.
"""
import torch
import torch.distributed as dist
from torch import nn


class GlooSyncBatchNorm(nn.BatchNorm2d):
    """BatchNorm whose training statistics are computed over all processes of the default group."""

    def forward(self, input):
        synced = self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        if not synced:
            return super().forward(input)
        from torch.distributed.nn.functional import all_reduce
        dims = [0] + list(range(2, input.dim()))
        count = torch.tensor([input.numel() / input.shape[1]], dtype=input.dtype, device=input.device)
        stats = torch.cat([input.sum(dims), (input * input).sum(dims), count])
        stats = all_reduce(stats)
        channels = input.shape[1]
        total = stats[-1]
        mean = stats[:channels] / total
        var = stats[channels:2 * channels] / total - mean * mean
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                unbiased = var * total / max(total - 1, 1)
                self.running_mean.mul_(1 - momentum).add_(momentum * mean)
                self.running_var.mul_(1 - momentum).add_(momentum * unbiased)
        shape = [1, channels] + [1] * (input.dim() - 2)
        out = (input - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


def convert_sync_bn_for_cpu(module: nn.Module) -> nn.Module:
    """Replace every ``torch.nn.SyncBatchNorm`` in ``module`` by :class:`GlooSyncBatchNorm` (same parameters)."""
    if isinstance(module, nn.SyncBatchNorm):
        replacement = GlooSyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                        module.track_running_stats)
        replacement.load_state_dict(module.state_dict())
        replacement.train(module.training)
        return replacement
    for name, child in module.named_children():
        new_child = convert_sync_bn_for_cpu(child)
        if new_child is not child:
            setattr(module, name, new_child)
    return module


def uses_sync_bn(module: nn.Module) -> bool:
    return any(isinstance(m, nn.SyncBatchNorm) for m in module.modules())


__all__ = ['GlooSyncBatchNorm', 'convert_sync_bn_for_cpu', 'uses_sync_bn']
