"""``lip-toolkit train``: overrides checked up front, the work-dir rule, interrupt and resume, a quiet screen."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lip_toolkit.cli import main
from lip_toolkit.core.paths import CONFIGS_DIR

POSE_TINY = str(CONFIGS_DIR / 'demo/pose_hrnet-tiny_lip-128x96.py')
# One iteration per epoch (16 images, batch 16), no validation: a training of a few seconds.
SHORT = ['train_dataloader.dataset.indices=16', 'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1',
         'default_hooks.logger.interval=1', 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1 and 'Traceback' not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_typo_in_cfg_options_is_refused_before_anything_is_written(tmp_path, capsys, synthetic_lip):
    work = tmp_path / 'work'
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--cfg-options', 'trian_cfg.max_epochs=1']) == 1
    _one_line_error(capsys, "'trian_cfg'", 'did you mean train_cfg?')
    assert not work.exists()
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'')
    out = tmp_path / 'pred'
    assert main(['predict', POSE_TINY, str(checkpoint), str(synthetic_lip / 'Testing_images/testing_images'),
                 '--out', str(out),
                 '--cfg-options', 'model.test_cfg.flip_tset=False']) == 1
    _one_line_error(capsys, 'did you mean model.test_cfg.flip_test?')
    assert not out.exists()
    assert main(['evaluate', POSE_TINY, str(checkpoint), '--out', str(tmp_path / 'val.csv'),
                 '--cfg-options', 'model.test_cfg.flip_tset=False']) == 1
    _one_line_error(capsys, 'did you mean model.test_cfg.flip_test?')


def test_work_dir_holding_a_training_needs_resume_or_overwrite(tmp_path, capsys):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'epoch_3.pth').write_bytes(b'')
    assert main(['train', POSE_TINY, '--work-dir', str(work)]) == 1
    _one_line_error(capsys, 'already holds a training', '--resume', '--overwrite')
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--resume']) == 1  # no last_checkpoint written
    _one_line_error(capsys, 'no checkpoint to resume from')
    assert main(['train', POSE_TINY, '--work-dir', str(tmp_path / 'empty'), '--resume']) == 1
    _one_line_error(capsys, 'no checkpoint to resume from')
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--resume', '--overwrite']) == 1
    _one_line_error(capsys, 'not both')
    assert sorted(p.name for p in work.iterdir()) == ['epoch_3.pth']


class _FakeRunner:
    """Stands for mmengine's Runner: 'trains' ``iterations`` iterations, saving a checkpoint, then fails."""

    def __init__(self, cfg, iterations, failure):
        self.work_dir, self.iter, self.failure, self.iterations = Path(cfg.work_dir), 0, failure, iterations
        (self.work_dir / '20260101_000000').mkdir(parents=True)  # mmengine's timestamp folder
        self.hooks = []

    def register_hook(self, hook, priority=None):
        self.hooks.append(hook)

    def train(self):
        for _ in range(self.iterations):
            self.iter += 1
            for hook in self.hooks:
                hook.after_train_iter(self, 0)
            (self.work_dir / f'iter_{self.iter}.pth').write_bytes(b'')
            (self.work_dir / 'last_checkpoint').write_text(str(self.work_dir / f'iter_{self.iter}.pth'))
        raise self.failure


def _fake_runner(monkeypatch, iterations, failure):
    import lip_toolkit.core.runner as runner
    monkeypatch.setattr(runner, 'build_runner', lambda cfg: _FakeRunner(cfg, iterations, failure))


def test_ctrl_c_names_the_last_checkpoint_and_the_resume_command(tmp_path, capsys, monkeypatch, synthetic_lip):
    _fake_runner(monkeypatch, 2, KeyboardInterrupt())
    work = tmp_path / 'my work'
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--data-root', str(synthetic_lip)]) == 130
    err = capsys.readouterr().err
    assert err.count('\n') == 1, err
    assert f"last checkpoint: {work / 'iter_2.pth'}" in err
    assert f"resume with: lip-toolkit train {POSE_TINY} --work-dir '{work}' --resume" in err


def test_failure_before_the_first_iteration_leaves_the_work_dir_as_it_was(tmp_path, capsys, monkeypatch,
                                                                         synthetic_lip):
    _fake_runner(monkeypatch, 0, RuntimeError('dataset missing'))
    work = tmp_path / 'work'
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--data-root', str(synthetic_lip)]) == 1
    assert not work.exists()  # no empty timestamp folder, no record
    work.mkdir()
    (work / 'epoch_9.pth').write_bytes(b'old')
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--data-root', str(synthetic_lip), '--overwrite']) == 1
    assert sorted(p.name for p in work.iterdir()) == ['epoch_9.pth']  # the earlier training is back
    _fake_runner(monkeypatch, 1, KeyboardInterrupt())
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--data-root', str(synthetic_lip), '--overwrite']) == 130
    assert 'epoch_9.pth' not in {p.name for p in work.iterdir()}  # replaced once the new run had iterated
    assert not list(tmp_path.glob('.work.replaced-*'))
    capsys.readouterr()


def test_resume_remembers_the_options_and_the_screen_stays_quiet(tmp_path, capsys, synthetic_lip, one_thread):
    work = tmp_path / 'work'
    assert main(['train', POSE_TINY, '--work-dir', str(work), '--data-root', str(synthetic_lip),
                 '--cfg-options', *SHORT]) == 0
    screen = capsys.readouterr()
    assert 'Epoch(train) [1][1/1]' in screen.out and f'training finished: logs and checkpoints in {work}' in screen.out
    for noise in ('System environment', 'Config:', 'Hooks will be executed', 'FileClient'):
        assert noise not in screen.out + screen.err
    (log,) = work.glob('*/*.log')
    assert all(noise in log.read_text() for noise in ('System environment', 'Config:', 'Hooks will be executed'))
    # No --data-root, no overrides again: the work dir remembers them (the config's own data root does not exist).
    assert main(['--verbose', 'train', POSE_TINY, '--work-dir', str(work), '--resume',
                 '--cfg-options', 'train_cfg.max_epochs=2']) == 0
    screen = capsys.readouterr()
    assert 'resumed epoch: 1' in screen.out and 'Epoch(train) [2][1/1]' in screen.out
    assert 'Config:' in screen.out  # --verbose shows what the log file has
    assert (work / 'epoch_2.pth').is_file()


@pytest.mark.slow
def test_sigint_during_training_exits_130_and_the_printed_command_resumes(tmp_path, synthetic_lip):
    work = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    options = [o for o in SHORT if not o.startswith('train_cfg.max_epochs')] + ['train_cfg.max_epochs=1000']
    process = subprocess.Popen([sys.executable, '-m', 'lip_toolkit', 'train', POSE_TINY, '--work-dir', str(work),
                                '--data-root', str(synthetic_lip), '--cfg-options', *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 300
    while not (work / 'last_checkpoint').is_file() and time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert 'resume with: ' in err and 'Traceback' not in err, err
    command = err.split('resume with: ')[1].split()
    assert command[:2] == ['lip-toolkit', 'train'] and command[-1] == '--resume'
    last = int(Path((work / 'last_checkpoint').read_text().strip()).stem.split('_')[1])
    assert main(command[1:] + ['--cfg-options', f'train_cfg.max_epochs={last + 1}']) == 0
    assert (work / f'epoch_{last + 1}.pth').is_file()
