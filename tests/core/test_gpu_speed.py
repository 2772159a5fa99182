"""GPU speed settings: what the full-size configs resolve to, the ``--no-gpu-speed`` switch, the mixed-precision
wrapper's choice of mmengine class and autocast type, and CPU training with the settings on (inert) and off."""
import copy

import pytest
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from lip_toolkit.core import gpu_speed
from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.runner import build_runner, load_config, merge_train_args

SLOW = pytest.mark.slow  # reading a config takes seconds: two in the default run, the others with the slow tests
FULL_SIZE = ['pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py',
             pytest.param('pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-coco-384x288.py', marks=SLOW),
             pytest.param('pose/posefix/posefix_res152_8xb16-140e_lip-coco-384x288.py', marks=SLOW),
             'parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py',
             pytest.param('parsing/ce2p/ce2p-aspoc_dcn-r101-d16_4xb10-150e_lip-trainval-mhp-576x576.py', marks=SLOW),
             pytest.param('parsing/hrnet/fcn_hrnetv2-w48_4xb10-150e_lip-480x480.py', marks=SLOW)]
ON = dict(amp='CudaAmpOptimWrapper', cudnn_benchmark=True, pin_memory=True, persistent_workers=True)


def _settings(cfg):
    loader = cfg.train_dataloader
    return dict(amp=cfg.optim_wrapper.get('type', 'OptimWrapper'), cudnn_benchmark=cfg.env_cfg.cudnn_benchmark,
                pin_memory=bool(loader.get('pin_memory')), persistent_workers=bool(loader.get('persistent_workers')))


@pytest.mark.parametrize('config', FULL_SIZE)
def test_full_size_configs_have_the_settings_and_the_switch_turns_them_off(config):
    cfg = load_config(config)
    assert _settings(cfg) == ON
    assert cfg.val_dataloader.pin_memory is True
    assert cfg.optim_wrapper.optimizer.type in ('Adam', 'SGD')  # the model base's optimizer survived the merge
    on_gpu = gpu_speed.apply_gpu_speed(copy.deepcopy(cfg), enabled=True, cuda=True)
    assert _settings(on_gpu) == ON
    on_cpu = gpu_speed.apply_gpu_speed(copy.deepcopy(cfg), enabled=True, cuda=False)
    assert _settings(on_cpu) == dict(ON, pin_memory=False)  # pinning without a GPU only warns
    off = gpu_speed.apply_gpu_speed(copy.deepcopy(cfg), enabled=False, cuda=True)
    assert _settings(off) == dict(amp='OptimWrapper', cudnn_benchmark=False, pin_memory=False,
                                  persistent_workers=True)
    assert off.val_dataloader.pin_memory is False


def test_switch_reaches_the_config_through_train_args():
    config = 'parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py'
    cfg = merge_train_args(load_config(config), config, gpu_speed=False)
    assert _settings(cfg)['amp'] == 'OptimWrapper' and cfg.env_cfg.cudnn_benchmark is False
    with pytest.raises(LipToolkitError, match='contradict'):
        merge_train_args(load_config(config), config, amp=True, gpu_speed=False)


def _wrapper(monkeypatch, cuda, capability=(9, 0), **cfg):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(torch.cuda, 'get_device_capability', lambda device=None: capability)
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return OPTIM_WRAPPERS.build(dict(type='CudaAmpOptimWrapper', **cfg), default_args=dict(optimizer=optimizer))


def test_without_cuda_the_wrapper_is_plain_float32(monkeypatch):
    wrapper = _wrapper(monkeypatch, cuda=False, clip_grad=dict(max_norm=1.0))
    assert type(wrapper) is OptimWrapper and wrapper.clip_grad_kwargs == dict(max_norm=1.0)


def test_bfloat16_without_loss_scaling_from_ampere_on(monkeypatch):
    wrapper = _wrapper(monkeypatch, cuda=True, capability=(9, 0))  # H100 / H200
    assert isinstance(wrapper, AmpOptimWrapper) and wrapper.cast_dtype is torch.bfloat16
    assert not wrapper.loss_scaler.is_enabled()
    assert _wrapper(monkeypatch, cuda=True, capability=(8, 0)).cast_dtype is torch.bfloat16  # A100


def test_float16_with_dynamic_loss_scaling_before_ampere(monkeypatch):
    wrapper = _wrapper(monkeypatch, cuda=True, capability=(7, 0))  # V100
    assert wrapper.cast_dtype is torch.float16 and wrapper.loss_scaler.is_enabled()
    forced = _wrapper(monkeypatch, cuda=True, capability=(9, 0), dtype='float16')
    assert forced.cast_dtype is torch.float16 and forced.loss_scaler.is_enabled()


@pytest.mark.parametrize('config,gpu_speed_on', [
    ('demo/parsing_ce2p-aspoc_dcn-r50-tiny_30e_synthetic-96x96.py', True),
    # tests/core/test_runner.py trains the tiny pose config with its settings on (inherited from pose_runtime.py)
    pytest.param('demo/pose_hrnet-tiny_lip-128x96.py', False, marks=SLOW),
])
def test_tiny_configs_train_on_cpu_with_the_full_size_settings(config, gpu_speed_on, synthetic_lip, tmp_path,
                                                              one_thread):
    if torch.cuda.is_available():
        pytest.skip('checks the CPU behaviour')
    cfg = load_config(config)
    # the full-size settings, whatever the tiny config says
    cfg.optim_wrapper.type = 'CudaAmpOptimWrapper'
    cfg.env_cfg.cudnn_benchmark = True
    cfg.train_dataloader.pin_memory = True
    options = {'train_cfg.max_epochs': 1, 'default_hooks.checkpoint.interval': 1, 'val_cfg': None,
               'val_dataloader': None, 'val_evaluator': None, 'train_dataloader.dataset.indices': 16}
    merge_train_args(cfg, config, work_dir=tmp_path, data_root=synthetic_lip, cfg_options=options,
                     gpu_speed=gpu_speed_on)
    runner = build_runner(cfg)
    runner.train()
    assert type(runner.optim_wrapper) is OptimWrapper
    assert runner.train_dataloader.pin_memory is False
    assert runner.iter > 0 and (tmp_path / 'epoch_1.pth').is_file()


def test_parsing_model_with_dcn_trains_under_bfloat16_autocast(parsing_loss_batch, one_thread):
    """The CE2P head, OCNet context, edge loss and DCN layers under mixed precision (bfloat16 autocast, which the
    CPU has too): a finite loss and finite, non-zero gradients, so no layer of ours breaks on a reduced type."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    import lip_toolkit.parsing.plugins  # noqa: F401
    cfg = load_config('demo/parsing_ce2p-aspoc_dcn-r50-tiny_30e_synthetic-96x96.py')
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    images, samples = parsing_loss_batch
    model.train()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(images, samples, mode='loss')
    loss, _ = model.parse_losses(losses)  # the host's reduction, as training applies it
    assert torch.isfinite(loss)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    deformable = [m for m in model.modules() if type(m).__name__ == 'ModulatedDeformConv2dTV']
    assert deformable and all(m.weight.grad.abs().sum() > 0 for m in deformable)
