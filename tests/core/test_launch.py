"""Process-group lifetime: every command leaves no gloo group behind (one left to interpreter shutdown made a
finished rank abort in ``std::terminate`` and torchrun fail the run)."""
import pytest
import torch.distributed as dist

from lip_toolkit.cli import main
from lip_toolkit.core.launch import free_port, init_distributed, shutdown_distributed
from lip_toolkit.core.paths import CONFIGS_DIR


@pytest.fixture
def one_rank_env(monkeypatch):
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(key, value)
    yield
    if dist.is_initialized():  # do not leak a group into other tests if an assertion failed
        dist.destroy_process_group()


def test_shutdown_destroys_the_group(one_rank_env):
    assert init_distributed('pytorch') is True
    assert dist.is_initialized()
    shutdown_distributed()
    assert not dist.is_initialized()
    shutdown_distributed()  # a second call (or one outside distributed runs) is a no-op


def test_failing_distributed_command_still_tears_the_group_down(one_rank_env, tmp_path, capsys):
    config = CONFIGS_DIR / 'demo' / 'pose_hrnet-tiny_lip-128x96.py'
    code = main(['evaluate', str(config), str(tmp_path / 'missing.pth'), '--data-root', str(tmp_path),
                 '--device', 'cpu', '--launcher', 'pytorch'])
    assert code != 0
    assert dist.is_initialized() is False
    assert capsys.readouterr().err.startswith('error: ')
