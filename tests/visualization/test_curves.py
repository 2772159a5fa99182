"""Training curves from MMEngine work dirs: the real log format, resumed runs, broken lines, the picture."""
import json
from pathlib import Path

import cv2
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.visualization.curves import find_scalar_files, load_training_scalars, plot_training_curves


def write_run(work_dir: Path, timestamp: str, lines, name='scalars.json', partial_tail=''):
    vis_data = work_dir / timestamp / 'vis_data'
    vis_data.mkdir(parents=True)
    text = ''.join(json.dumps(line) + '\n' for line in lines) + partial_tail
    (vis_data / name).write_text(text)


def train_line(step, loss, lr=0.01):
    return {'lr': lr, 'data_time': 0.01, 'loss': loss, 'loss_kpt': loss, 'acc_pose': 0.5, 'time': 0.2,
            'epoch': 1 + step // 10, 'iter': step, 'memory': 100, 'step': step}


def val_line(epoch, pckh):
    return {'LIP/PCKh': pckh, 'LIP/Head': pckh + 1, 'data_time': 0.01, 'time': 0.1, 'step': epoch}


def test_resumed_runs_are_stitched(tmp_path):
    write_run(tmp_path, '20250101_000000', [train_line(s, 1.0 / s) for s in (10, 20, 30)] + [val_line(1, 40.0)])
    # Resumed from the checkpoint at step 20: the first run's step 30 is superseded.
    write_run(tmp_path, '20250102_000000', [train_line(s, 0.5 / s) for s in (30, 40)] + [val_line(2, 50.0)],
              name='20250102_000000.json')
    scalars = load_training_scalars(tmp_path)
    steps, losses = scalars.train['loss']
    assert steps == [10.0, 20.0, 30.0, 40.0]
    assert losses[2] == pytest.approx(0.5 / 30)
    assert scalars.val['LIP/PCKh'] == ([1.0, 2.0], [40.0, 50.0])
    assert 'time' not in scalars.train and 'epoch' not in scalars.train
    assert scalars.val_by_epoch
    assert len(find_scalar_files(tmp_path)) == 2


def test_partial_last_line_is_tolerated_but_broken_middle_lines_are_not(tmp_path):
    write_run(tmp_path / 'a', '20250101_000000', [train_line(10, 1.0)], partial_tail='{"lr": 0.01, "lo')
    assert load_training_scalars(tmp_path / 'a').train['loss'] == ([10.0], [1.0])
    run = tmp_path / 'b' / '20250101_000000' / 'vis_data'
    run.mkdir(parents=True)
    (run / 'scalars.json').write_text('{"lr": 1, "step": 1}\nnot json\n{"lr": 1, "step": 2}\n')
    with pytest.raises(LipToolkitError, match=r'scalars.json \(line 2\): not a JSON line'):
        load_training_scalars(tmp_path / 'b')
    with pytest.raises(LipToolkitError, match='no training logs found'):
        load_training_scalars(tmp_path / 'b' / '20250101_000000' / 'vis_data' / '..' / '..' / '..')
    with pytest.raises(LipToolkitError, match='work dir not found'):
        load_training_scalars(tmp_path / 'missing')


def test_plot_writes_one_panel_per_kind(tmp_path):
    write_run(tmp_path, '20250101_000000', [train_line(s, 1.0 / s) for s in range(1, 50)] + [val_line(1, 40.0)])
    out = plot_training_curves(tmp_path, tmp_path / 'plots' / 'curves.png')
    picture = cv2.imread(str(out))
    # loss, lr, training metrics (acc_pose) and validation: four 6-inch panels at 100 dpi
    assert picture.shape == (400, 2400, 3)
    with pytest.raises(LipToolkitError, match='must end in'):
        plot_training_curves(tmp_path, tmp_path / 'curves.txt')


def test_a_real_mmengine_run_is_read(tmp_path):
    """Train a two-parameter model with MMEngine's Runner so the log format is the library's own."""
    import torch
    from mmengine.evaluator import BaseMetric
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class TinyModel(BaseModel):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.tensor(3.0))

        def forward(self, inputs, mode='tensor'):
            if mode == 'loss':
                return {'loss': ((inputs * self.weight - inputs) ** 2).mean()}
            return [float(self.weight)] * len(inputs)

    class WeightMetric(BaseMetric):
        def process(self, data_batch, data_samples):
            self.results.extend(data_samples)

        def compute_metrics(self, results):
            return {'toy/error': abs(results[0] - 1.0)}

    loader = dict(dataset=[dict(inputs=torch.tensor(float(i))) for i in range(1, 9)], batch_size=2,
                  sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'))
    runner = Runner(model=TinyModel(), work_dir=str(tmp_path), train_dataloader=loader, val_dataloader=loader,
                    val_evaluator=[WeightMetric()], val_cfg=dict(), default_scope='mmengine',
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
                    train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1),
                    default_hooks=dict(logger=dict(type='LoggerHook', interval=1), checkpoint=None),
                    log_level='WARNING', env_cfg=dict(dist_cfg=dict(backend='gloo')))
    runner.train()
    scalars = load_training_scalars(tmp_path)
    steps, losses = scalars.train['loss']
    assert steps == [float(s) for s in range(1, 13)]
    assert losses[-1] < losses[0]
    assert scalars.train['lr'][1][0] == pytest.approx(0.01)
    assert scalars.val['toy/error'][0] == [1.0, 2.0, 3.0]
    assert plot_training_curves(tmp_path, tmp_path / 'c.png').is_file()
