"""merge_train_args: the flags' precedence and effects (config-level, cheap), and two trainings in one process."""
import importlib.util
import uuid

import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import CONFIGS_DIR
from lip_toolkit.core.runner import (check_cfg_options, config_errors, config_track, load_config, merge_train_args,
                                     parse_cfg_options, set_lip_data_root)

POSE_TINY = 'demo/pose_hrnet-tiny_lip-128x96.py'
POSE_MIX = 'pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-coco-aic-384x288.py'


def test_load_config_resolves_paths_under_configs_and_reports_bad_ones(tmp_path):
    assert config_track(load_config(POSE_TINY)) == 'pose'
    broken = tmp_path / 'broken.py'
    broken.write_text('model = dict(\n')
    with pytest.raises(LipToolkitError, match='cannot read config'):
        load_config(broken)
    with pytest.raises(LipToolkitError, match='config file not found'):
        load_config(tmp_path / 'none.py')
    scopeless = tmp_path / 'scopeless.py'
    scopeless.write_text('model = dict(type="X")\n')
    with pytest.raises(LipToolkitError, match='default_scope'):
        config_track(load_config(scopeless), scopeless)


def test_work_dir_precedence_and_cfg_options_last(tmp_path):
    cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY)
    assert cfg.work_dir.endswith('work_dirs/pose_hrnet-tiny_lip-128x96')
    cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY, work_dir=tmp_path / 'w',
                           cfg_options={'work_dir': str(tmp_path / 'from_options'), 'train_cfg.max_epochs': 3})
    assert cfg.work_dir == str(tmp_path / 'from_options') and cfg.train_cfg.max_epochs == 3


def test_resume_forms(tmp_path):
    cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY, resume=True)
    assert cfg.resume is True and cfg.load_from is None
    checkpoint = tmp_path / 'epoch_3.pth'
    checkpoint.write_bytes(b'')
    cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY, resume=str(checkpoint))
    assert cfg.resume is True and cfg.load_from == str(checkpoint)
    with pytest.raises(LipToolkitError, match='resume from not found'):
        merge_train_args(load_config(POSE_TINY), POSE_TINY, resume=str(tmp_path / 'missing.pth'))


def test_amp_is_refused_on_cpu():
    import torch
    if torch.cuda.is_available():
        cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY, amp=True)
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    else:
        with pytest.raises(LipToolkitError, match='--amp needs a CUDA GPU'):
            merge_train_args(load_config(POSE_TINY), POSE_TINY, amp=True)


def test_auto_scale_lr_enables_the_configs_setting():
    cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY, auto_scale_lr=True)
    assert cfg.auto_scale_lr.enable is True and cfg.auto_scale_lr.base_batch_size == 16


def test_cpu_distributed_uses_gloo_and_no_device_ids():
    import torch
    if torch.cuda.is_available():
        pytest.skip('CPU-only workaround')
    cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY, launcher='pytorch')
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'


def test_tensorboard(tmp_path):
    if importlib.util.find_spec('tensorboard') is None:
        with pytest.raises(LipToolkitError, match='pip install tensorboard'):
            merge_train_args(load_config(POSE_TINY), POSE_TINY, tensorboard=True)
    else:
        cfg = merge_train_args(load_config(POSE_TINY), POSE_TINY, tensorboard=True)
        assert any(b['type'] == 'TensorboardVisBackend' for b in cfg.visualizer.vis_backends)


def test_data_root_reaches_only_lip_datasets_inside_wrappers(tmp_path):
    cfg = load_config(POSE_MIX)
    found = set_lip_data_root(cfg, tmp_path)
    assert found >= 3  # LIP train (inside CombinedDataset), val, test
    mixed = cfg.train_dataloader.dataset
    roots = {d['type']: d.get('data_root') for d in mixed['datasets']}
    assert roots['LIPPoseDataset'] == str(tmp_path)
    assert all(root != str(tmp_path) for kind, root in roots.items() if kind != 'LIPPoseDataset')
    assert cfg.val_dataloader.dataset.data_root == str(tmp_path)
    parsing = load_config('parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-trainval-mhp-576x576.py')
    set_lip_data_root(parsing, tmp_path)
    train_roots = sorted(d['data_root'] for d in parsing.train_dataloader.dataset['datasets'])
    assert train_roots.count(str(tmp_path)) == 2  # LIP train and val; the CIHP / MHP crop trees keep theirs
    assert 'data/cihp_lip' in train_roots and 'data/mhp_lip' in train_roots
    with pytest.raises(LipToolkitError, match='data root not found'):
        merge_train_args(load_config(POSE_TINY), POSE_TINY, data_root=tmp_path / 'missing')


def test_cfg_options_parsing():
    assert parse_cfg_options(['a.b=1', 'c=[1,2]', 'd=x']) == {'a.b': 1, 'c': [1, 2], 'd': 'x'}
    with pytest.raises(LipToolkitError, match='KEY=VALUE'):
        parse_cfg_options(['novalue'])


def test_unknown_types_and_keys_become_one_line_errors():
    with pytest.raises(LipToolkitError, match=r"unknown type 'NoSuchHead'"):
        with config_errors('cfg.py'):
            raise KeyError('NoSuchHead is not in the mmpose::model registry. Please check whether ...')
    with pytest.raises(LipToolkitError, match='invalid arguments'):
        with config_errors('cfg.py'):
            raise TypeError("__init__() got an unexpected keyword argument 'depht'")
    with pytest.raises(KeyError):
        with config_errors('cfg.py'):
            raise KeyError('something else')


def test_train_command_reports_unknown_type_in_one_line(tmp_path, capsys, synthetic_lip):
    from lip_toolkit.cli import main
    config = tmp_path / 'bad.py'
    config.write_text(f"_base_ = ['{CONFIGS_DIR / POSE_TINY}']\nmodel = dict(head=dict(type='NoSuchHead'))\n")
    assert main(['train', str(config), '--data-root', str(synthetic_lip), '--work-dir', str(tmp_path / 'w')]) == 1
    err = capsys.readouterr().err
    assert "unknown type 'NoSuchHead'" in err and err.count('\n') == 1 and 'Traceback' not in err


def test_trainings_in_one_process_log_into_their_own_folders(synthetic_lip, tmp_path, one_thread):
    # mmengine keeps visualizers as named process-wide singletons; MMPose's is named 'visualizer', so without
    # a name per run the second training's scalars went into the first run's folder.
    from lip_toolkit.core.runner import train
    options = {'train_cfg.max_epochs': 1, 'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
               'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None}
    for name in ('first', 'second'):
        train(POSE_TINY, work_dir=tmp_path / name, data_root=synthetic_lip, cfg_options=options, quiet=True)
    for name in ('first', 'second'):
        (scalars,) = (tmp_path / name).glob('*/vis_data/scalars.json')
        assert len(scalars.read_text().splitlines()) == 4  # 64 images, batch 16: this run's iterations only


@pytest.mark.parametrize('key, message', [
    ('trian_cfg.max_epochs', r"no 'trian_cfg' at the top level \(did you mean train_cfg\?\)"),
    ('train_cfg.max_epoch', r"no 'max_epoch' at train_cfg \(did you mean train_cfg.max_epochs\?\)"),
    ('model.test_cfg.flip_tset', r"did you mean model.test_cfg.flip_test\?"),
    ('model.backbone.with_pc', r"did you mean model.backbone.with_cp\?"),  # HRNet takes with_cp, not with_pc
    ('optim_wrapper.optimizer.momentum', r"no 'momentum' at optim_wrapper.optimizer"),  # Adam has no momentum
    ('train_dataloader.pin_memroy', r"did you mean train_dataloader.pin_memory\?"),
    ('train_pipeline.7.type', r'train_pipeline is a list of 7; give an index 0-6'),
    ('train_pipeline.type', r'train_pipeline is a list of 7'),
    ('custom_hooks.0.type', r'custom_hooks is an empty list'),
    ('train_cfg.max_epochs.x', r'train_cfg.max_epochs is a value \(int\), not a dict'),
    ('data_root', r'given with --data-root'),
])
def test_cfg_options_keys_that_name_nothing_are_refused(key, message):
    with pytest.raises(LipToolkitError, match=message):
        check_cfg_options(load_config(POSE_TINY), {key: 1})


@pytest.mark.parametrize('key', [
    'train_cfg.max_epochs', 'train_pipeline.2.direction',     # existing keys, a list item (mmengine's a.0.b)
    'train_cfg.val_begin',                                    # an argument of EpochBasedTrainLoop, absent here
    'model.backbone.with_cp',                                 # an argument of HRNet, absent here
    'optim_wrapper.optimizer.weight_decay',                   # an argument of torch's Adam
    'train_dataloader.pin_memory', 'randomness.deterministic',  # DataLoader / set_random_seed arguments
    'default_hooks.ema.type',                                 # a new named hook, and below it anything
    'model.test_cfg._delete_', 'env_cfg.dist_cfg.timeout', 'sync_bn', 'model.test_cfg.output_heatmaps',
])
def test_cfg_options_may_add_what_the_host_takes(key):
    check_cfg_options(load_config(POSE_TINY), {key: 1})


def test_cfg_options_under_a_rewritten_dict_are_free():
    cfg = load_config(POSE_TINY)
    options = {'model.test_cfg._delete_': True, 'model.test_cfg.anything_new': 1}
    check_cfg_options(cfg, options)
    with pytest.raises(LipToolkitError, match="no 'anything_new'"):
        check_cfg_options(cfg, {'model.test_cfg.anything_new': 1})
    with pytest.raises(LipToolkitError, match="no 'trian_cfg'"):  # every path taking cfg_options checks them
        load_config(POSE_TINY, {'trian_cfg.max_epochs': 1})


def test_resumed_quiet_run_prints_nothing_and_logs_the_checkpoint_load(tmp_path, capsys):
    """mmengine print()s `Loads checkpoint by local_safe backend from path: ...` on resume (its loader's logger is
    None); the toolkit's Runner sends it to the run's log file, so a quiet resumed run's screen stays empty."""
    import torch
    from mmengine.model import BaseModel
    from torch.utils.data import TensorDataset

    from lip_toolkit.core.checkpoint import install_mmengine_checkpoint_loader
    from lip_toolkit.core.progress import set_quiet
    from lip_toolkit.core.runner import _runner_class

    class Line(BaseModel):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, inputs, mode='loss'):
            return dict(loss=self.linear(inputs).pow(2).mean())

    def runner(work_dir, iterations, resume_from=None):
        return _runner_class()(
            model=Line(), work_dir=str(work_dir), experiment_name=f'resume_{work_dir.name}_{uuid.uuid4().hex}',
            train_dataloader=dict(dataset=TensorDataset(torch.ones(4, 1)), batch_size=2, num_workers=0,
                                  sampler=dict(type='DefaultSampler', shuffle=False),
                                  collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            train_cfg=dict(by_epoch=False, max_iters=iterations),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
                               safe_checkpoint=dict(type='SafeCheckpointHook')),
            load_from=resume_from, resume=resume_from is not None, default_scope='mmengine')

    install_mmengine_checkpoint_loader()
    runner(tmp_path / 'first', 1).train()
    set_quiet(True)
    capsys.readouterr()
    resumed = runner(tmp_path / 'resumed', 2, resume_from=str(tmp_path / 'first' / 'iter_1.pth'))
    resumed.train()
    screen = capsys.readouterr()
    assert resumed.iter == 2
    assert screen.out == '', screen.out
    (log,) = (tmp_path / 'resumed').glob('*/*.log')
    assert 'Loads checkpoint by local_safe backend from path:' in log.read_text()
