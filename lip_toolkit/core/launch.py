"""Distributed launching on PyTorch's own engine (torchrun, slurm), through mmengine.

Two workarounds measured with mmengine 0.10.7 on CPU-only machines:
  * ``mmengine.dist.init_dist`` calls ``torch.cuda.set_device``, which fails without a GPU, so on CPU the gloo
    process group is initialised here, before the Runner is built (the Runner then finds it initialised);
  * mmengine's DDP wrapper passes ``device_ids=[LOCAL_RANK]``, refused for CPU modules; ``merge_train_args``
    sets ``model_wrapper_cfg.device_ids=None`` instead.
"""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from .errors import LipToolkitError

LAUNCHERS = ('none', 'pytorch', 'slurm')


def init_distributed(launcher: str, dist_cfg: Optional[dict] = None) -> bool:
    """Initialise the process group for ``launcher`` when mmengine cannot (CPU). Returns True if distributed."""
    if launcher == 'none':
        return False
    if launcher not in LAUNCHERS:
        raise LipToolkitError(f'unknown launcher {launcher!r}; choose one of {", ".join(LAUNCHERS)}')
    import torch
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        return True
    if torch.cuda.is_available():
        from mmengine.dist import init_dist
        init_dist(launcher, **(dist_cfg or {}))
        return True
    if launcher == 'slurm':
        _slurm_to_torch_env()
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise LipToolkitError(f'--launcher {launcher} needs {", ".join(missing)} in the environment '
                              '(start under torchrun/srun, or use --gpus N to let lip-toolkit start torchrun)')
    os.environ.setdefault('LOCAL_RANK', '0')
    timeout = (dist_cfg or {}).get('timeout')
    kwargs = {}
    if timeout is not None:
        import datetime
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']), **kwargs)
    return True


def shutdown_distributed(synchronise: bool = True) -> None:
    """Tear the process group down before the interpreter exits (a no-op outside distributed runs).

    Left to interpreter shutdown, gloo's threads can outlive their group: measured, a rank that finished first
    then died in ``std::terminate`` (SIGABRT) and torchrun reported the whole run failed. ``synchronise`` waits
    for every rank first, so no rank closes its connections while a peer still uses them; a failing rank skips
    that wait (its peers may never reach it; torchrun stops them).
    """
    if 'torch.distributed' not in sys.modules:  # never initialised; keeps light commands free of torch
        return
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    if synchronise:
        dist.barrier()
    dist.destroy_process_group()


def _slurm_to_torch_env() -> None:
    """Translate srun's variables into torchrun's (what mmengine's slurm init does, minus the CUDA call)."""
    try:
        rank, world = os.environ['SLURM_PROCID'], os.environ['SLURM_NTASKS']
    except KeyError:
        raise LipToolkitError('--launcher slurm must run under srun (SLURM_PROCID/SLURM_NTASKS are not set)') from None
    os.environ.setdefault('RANK', rank)
    os.environ.setdefault('WORLD_SIZE', world)
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ.get('SLURM_NODELIST', 'localhost')
        first = subprocess.run(['scontrol', 'show', 'hostname', nodes], capture_output=True, text=True)
        os.environ['MASTER_ADDR'] = (first.stdout.split() or ['localhost'])[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def torchrun_command(command_args: Sequence[str], nproc_per_node: int, nnodes: int = 1, node_rank: int = 0,
                     master_addr: str = '127.0.0.1', master_port: Optional[int] = None) -> List[str]:
    """The torchrun command that runs ``lip-toolkit <command_args> --launcher pytorch`` on every process."""
    if nproc_per_node < 1 or nnodes < 1 or not 0 <= node_rank < nnodes:
        raise LipToolkitError(f'invalid launch: --gpus {nproc_per_node} --nnodes {nnodes} --node-rank {node_rank}')
    port = master_port or (free_port() if nnodes == 1 else 29500)
    return [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={nproc_per_node}',
            f'--nnodes={nnodes}', f'--node_rank={node_rank}', f'--master_addr={master_addr}',
            f'--master_port={port}', '-m', 'lip_toolkit', *command_args, '--launcher', 'pytorch']


def run_torchrun(command_args: Sequence[str], **launch) -> int:
    """Start torchrun for ``command_args`` and wait; returns its exit code."""
    cmd = torchrun_command(command_args, **launch)
    from .progress import info
    info('launching: ' + ' '.join(cmd))
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')  # one thread per process: no oversubscription on shared cores
    return subprocess.call(cmd, env=env)


def rank_and_world() -> tuple:
    """(rank, world size) of this process; (0, 1) outside distributed runs."""
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    except ImportError:
        pass
    return 0, 1


def all_reduce_sum(array):
    """Sum a numpy array over all ranks (returned unchanged outside distributed runs); exact for integers."""
    import numpy as np

    if rank_and_world()[1] == 1:
        return array
    import torch
    import torch.distributed as dist
    dtype = torch.int64 if np.issubdtype(array.dtype, np.integer) else torch.float64
    tensor = torch.from_numpy(np.ascontiguousarray(array)).to(dtype)
    if dist.get_backend() == 'nccl':
        tensor = tensor.cuda()
    dist.all_reduce(tensor)
    return tensor.cpu().numpy().astype(array.dtype)


def all_gather_objects(obj) -> list:
    """``[obj of rank 0, obj of rank 1, ...]`` (just ``[obj]`` outside distributed runs)."""
    world = rank_and_world()[1]
    if world == 1:
        return [obj]
    import torch.distributed as dist
    gathered = [None] * world
    dist.all_gather_object(gathered, obj)
    return gathered


@contextlib.contextmanager
def output_directory(out_dir) -> Iterator[Optional[Path]]:
    """The folder this rank writes its share of ``out_dir`` into; ``out_dir`` appears complete or not at all.

    One process: built aside by :func:`~lip_toolkit.core.io.atomic_directory`. Several: every rank writes into
    one hidden staging folder; after a barrier rank 0 moves it in as a whole, only if no rank failed.
    """
    from .io import atomic_directory
    if out_dir is None:
        yield None
        return
    out_dir = Path(out_dir)
    rank, world = rank_and_world()
    if world == 1:
        with atomic_directory(out_dir) as tmp_dir:
            yield Path(tmp_dir)
        return
    import torch.distributed as dist
    staging = out_dir.with_name(f'.{out_dir.name}.ensemble-shards.partial')
    if rank == 0:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    dist.barrier()
    failed = False
    try:
        yield staging
    except BaseException:
        failed = True
        raise
    finally:
        flags = all_gather_objects(failed)
        if rank == 0:
            if not any(flags):
                with atomic_directory(out_dir) as tmp_dir:
                    for entry in staging.iterdir():
                        entry.replace(Path(tmp_dir) / entry.name)
            shutil.rmtree(staging, ignore_errors=True)
        dist.barrier()
