"""GlooSyncBatchNorm over 2 CPU processes equals BatchNorm over the whole batch (outputs, grads, statistics)."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lip_toolkit.core.launch import free_port
from lip_toolkit.core.sync_bn import GlooSyncBatchNorm, convert_sync_bn_for_cpu


def _worker(rank, port, full_input, result_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.manual_seed(0)
    layer = GlooSyncBatchNorm(3)
    layer.weight.data.uniform_(0.5, 1.5)
    layer.bias.data.uniform_(-0.5, 0.5)
    shard = full_input[rank * 3:(rank + 1) * 3].clone().requires_grad_(True)
    out = layer(shard)
    (out * torch.arange(out.numel()).view_as(out).float()).sum().backward()
    torch.save(dict(out=out.detach(), grad=shard.grad, running_mean=layer.running_mean,
                    running_var=layer.running_var, weight_grad=layer.weight.grad),
               os.path.join(result_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_two_process_statistics_equal_full_batch(tmp_path):
    torch.manual_seed(1)
    full = torch.randn(6, 3, 4, 5) * 2 + 1
    mp.start_processes(_worker, args=(free_port(), full, str(tmp_path)), nprocs=2, start_method='fork')
    results = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(2)]

    torch.manual_seed(0)
    reference = torch.nn.BatchNorm2d(3)
    reference.weight.data.uniform_(0.5, 1.5)
    reference.bias.data.uniform_(-0.5, 0.5)
    x = full.clone().requires_grad_(True)
    out = reference(x)
    weights = torch.cat([torch.arange(out[:3].numel()).view_as(out[:3]).float()] * 2)
    (out * weights).sum().backward()

    torch.testing.assert_close(torch.cat([r['out'] for r in results]), out.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.cat([r['grad'] for r in results]), x.grad, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(results[0]['weight_grad'] + results[1]['weight_grad'], reference.weight.grad,
                               atol=1e-3, rtol=1e-4)
    for r in results:
        torch.testing.assert_close(r['running_mean'], reference.running_mean, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(r['running_var'], reference.running_var, atol=1e-5, rtol=1e-5)


def test_single_process_is_plain_batch_norm():
    layer, reference = GlooSyncBatchNorm(2), torch.nn.BatchNorm2d(2)
    x = torch.randn(4, 2, 3, 3)
    torch.testing.assert_close(layer(x), reference(x))


def test_convert_replaces_torch_sync_bn_and_keeps_parameters():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.SyncBatchNorm(4))
    model[1].weight.data.fill_(2.0)
    converted = convert_sync_bn_for_cpu(model)
    assert isinstance(converted[1], GlooSyncBatchNorm)
    assert torch.all(converted[1].weight == 2.0)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in converted.modules())


