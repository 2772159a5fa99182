"""The full-size models of the seed's table: parameter counts beside the references, one CPU training step each.

Parameter counts (``python benchmarks/count_params.py --track pose``): HRNet-W32 28.54M (HRNet paper: 28.5M, at
any input size); PoseFix ResNet-152 68.69M (SimpleBaseline ResNet-152: 68.6M, plus 16 x 64 x 7 x 7 = 0.05M for
the pose channels of conv1); 4-stage MSPN-50 120.14M (no published number: the test pins our measured count).

Each training-step test builds the config's model (no ImageNet file), runs the config's own train pipeline on one
synthetic LIP image (batch 1) and does one forward and backward pass.
"""
import pytest
import torch

HRNET_384 = 'configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py'
HRNET_512 = 'configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-512x384.py'
MSPN_384 = 'configs/pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-coco-384x288.py'
MSPN_512 = 'configs/pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-trainval-coco-aic-512x384.py'
POSEFIX = 'configs/pose/posefix/posefix_res152_8xb16-140e_lip-coco-384x288.py'


def _model(config):
    from lip_toolkit.pose.inference import _as_config, build_pose_model
    cfg = _as_config(config)
    return cfg, build_pose_model(cfg, device='cpu')


def _millions(model):
    return sum(p.numel() for p in model.parameters()) / 1e6


@pytest.mark.parametrize('config,reference,tolerance', [
    (HRNET_384, 28.5, 0.01),
    (HRNET_512, 28.5, 0.01),
    (POSEFIX, 68.6 + 0.05, 0.01),
    (MSPN_384, 120.14, 0.001),  # no reference published: pins the measured count
])
def test_parameter_counts_match_the_references(config, reference, tolerance):
    _, model = _model(config)
    assert _millions(model) == pytest.approx(reference, rel=tolerance)


def _one_training_step(config, data_root):
    """Forward + backward of one real training sample through the config's model and train pipeline."""
    from mmengine.dataset import pseudo_collate
    from mmpose.registry import DATASETS

    cfg, model = _model(config)
    lip = cfg.train_dataloader.dataset
    if lip.type == 'CombinedDataset':
        lip = dict(lip.datasets[0], pipeline=lip.pipeline)
    dataset = DATASETS.build(dict(lip, data_root=str(data_root)))
    model.train()
    data = model.data_preprocessor(pseudo_collate([dataset[0]]), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    total = sum(value for key, value in losses.items() if key.startswith('loss'))
    total.backward()
    assert torch.isfinite(total)
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert sum(g is not None and bool(g.abs().sum() > 0) for g in grads) > 0.9 * len(grads)
    return data['inputs'].shape


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


# Measured on the loaded 2-core test machine: HRNet 384x288 22 s, PoseFix 13 s (default suite); HRNet 512x384
# 31 s, MSPN 384x288 47 s, MSPN 512x384 45 s (slow).
@pytest.mark.parametrize('config,input_hw', [
    (HRNET_384, (384, 288)),
    (POSEFIX, (384, 288)),
    pytest.param(HRNET_512, (512, 384), marks=pytest.mark.slow),
    pytest.param(MSPN_384, (384, 288), marks=pytest.mark.slow),
    pytest.param(MSPN_512, (512, 384), marks=pytest.mark.slow),
])
def test_full_size_training_step_on_cpu(config, input_hw, synthetic_lip):
    assert tuple(_one_training_step(config, synthetic_lip)[-2:]) == input_hw
