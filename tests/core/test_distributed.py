"""Scale out and recover (issue 8), on CPU with gloo: 2-process training with synchronised BN, 2-process
evaluation equal to 1 process, and a training run killed with SIGKILL that resumes and finishes."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lip_toolkit.core.paths import CONFIGS_DIR

POSE_TINY = CONFIGS_DIR / 'demo' / 'pose_hrnet-tiny_lip-128x96.py'
PARSING_TINY = CONFIGS_DIR / 'demo' / 'parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'
ONE_EPOCH = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1']


def _lip_toolkit(*args, timeout=900, **kwargs):
    env = dict(os.environ, OMP_NUM_THREADS='1', LIP_TOOLKIT_QUIET='1')
    return subprocess.run([sys.executable, '-m', 'lip_toolkit', *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


def _log_text(work_dir: Path) -> str:
    return '\n'.join(p.read_text() for p in sorted(work_dir.glob('*/*.log')))


def _train_two_ranks(config, data_root, work_dir, extra=()):
    done = _lip_toolkit('train', config, '--gpus', 2, '--data-root', data_root, '--work-dir', work_dir,
                        '--cfg-options', *ONE_EPOCH, 'sync_bn=torch', *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    log = _log_text(work_dir)
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    assert (work_dir / 'epoch_1.pth').is_file()
    return work_dir / 'epoch_1.pth'


@pytest.fixture(scope='module')
def pose_two_rank_checkpoint(synthetic_lip, tmp_path_factory):
    return _train_two_ranks(POSE_TINY, synthetic_lip, tmp_path_factory.mktemp('pose_ddp'))


def test_pose_trains_as_two_rank_ddp_with_sync_bn(pose_two_rank_checkpoint):
    assert pose_two_rank_checkpoint.stat().st_size > 0


@pytest.fixture(scope='module')
def parsing_two_rank_checkpoint(synthetic_lip, tmp_path_factory):
    return _train_two_ranks(PARSING_TINY, synthetic_lip, tmp_path_factory.mktemp('parsing_ddp'))


def test_parsing_trains_as_two_rank_ddp_with_sync_bn(parsing_two_rank_checkpoint):
    assert parsing_two_rank_checkpoint.stat().st_size > 0


def _read_outputs(path: Path):
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    return path.read_text()


@pytest.mark.parametrize('track', ['pose', 'parsing'])
def test_two_rank_evaluate_equals_one_rank(track, pose_two_rank_checkpoint, parsing_two_rank_checkpoint,
                                           synthetic_lip, tmp_path):
    config, checkpoint, out_name = {
        'pose': (POSE_TINY, pose_two_rank_checkpoint, 'pred{}.csv'),
        'parsing': (PARSING_TINY, parsing_two_rank_checkpoint, 'pngs{}'),
    }[track]
    results = {}
    for ranks in (1, 2):
        scores, preds = tmp_path / f'scores{ranks}.json', tmp_path / out_name.format(ranks)
        launch = ['--gpus', 2] if ranks == 2 else []
        done = _lip_toolkit('evaluate', config, checkpoint, '--data-root', synthetic_lip, '--device', 'cpu',
                            '--json', scores, '--out', preds, *launch)
        assert done.returncode == 0, done.stderr[-3000:]
        numbers = json.loads(scores.read_text())
        numbers.pop('out', None), numbers.pop('out_dir', None)
        results[ranks] = (numbers, _read_outputs(preds))
    assert results[1][0] == results[2][0]
    assert results[1][1] == results[2][1]
    assert len(results[1][1]) > 0


def test_sigkill_mid_run_then_resume_finishes(synthetic_lip, tmp_path):
    work_dir = tmp_path / 'killed'
    args = ['train', POSE_TINY, '--data-root', synthetic_lip, '--work-dir', work_dir, '--cfg-options',
            'train_cfg.max_epochs=3', 'train_cfg.val_interval=3', 'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=3']
    env = dict(os.environ, OMP_NUM_THREADS='1', LIP_TOOLKIT_QUIET='1')
    process = subprocess.Popen([sys.executable, '-m', 'lip_toolkit', *map(str, args)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    # mmengine writes `last_checkpoint` once a checkpoint file is complete.
    while not (work_dir / 'last_checkpoint').exists():
        assert process.poll() is None, 'training ended before its first checkpoint'
        assert time.time() < deadline, 'no checkpoint within 10 minutes'
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (work_dir / 'epoch_3.pth').exists()
    first = Path((work_dir / 'last_checkpoint').read_text().strip()).name

    done = _lip_toolkit(*args, '--resume')
    assert done.returncode == 0, done.stderr[-3000:]
    assert (work_dir / 'epoch_3.pth').is_file()
    resumed_log = sorted(work_dir.glob('*/*.log'))[-1].read_text()
    assert f'Load checkpoint from {work_dir / first}' in resumed_log or 'resumed epoch' in resumed_log
    assert 'resumed epoch: ' in resumed_log
