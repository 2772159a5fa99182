"""The pose configs of the seed's table: names, stated targets, data mixes and size consistency (no model built)."""
import re
from pathlib import Path

import pytest

from lip_toolkit.core.paths import CONFIGS_DIR

# config -> (the seed's LIP test PCKh target as stated in the file, LIP splits trained on, external datasets)
TABLE = {
    'hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py': ('88.2', ['train'], []),
    'hrnet/td-hm_hrnet-w32_8xb32-210e_lip-coco-384x288.py': ('91.2', ['train'], ['CocoDataset']),
    'hrnet/td-hm_hrnet-w32_8xb32-210e_lip-coco-aic-384x288.py': ('91.8', ['train'], ['CocoDataset', 'AicRawDataset']),
    'hrnet/td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-384x288.py':
        ('91.8', ['train', 'val'], ['CocoDataset', 'AicRawDataset']),
    'hrnet/td-hm_hrnet-w32_8xb32-210e_lip-trainval-coco-aic-512x384.py':
        ('92.0', ['train', 'val'], ['CocoDataset', 'AicRawDataset']),
    'mspn/td-hm_4xmspn50_8xb32-210e_lip-coco-384x288.py': ('91.4', ['train'], ['CocoDataset']),
    'mspn/td-hm_4xmspn50_8xb32-210e_lip-coco-aic-384x288.py': ('91.8', ['train'], ['CocoDataset', 'AicRawDataset']),
    'mspn/td-hm_4xmspn50_8xb32-210e_lip-trainval-coco-aic-384x288.py':
        ('91.9', ['train', 'val'], ['CocoDataset', 'AicRawDataset']),
    'mspn/td-hm_4xmspn50_8xb32-210e_lip-trainval-coco-aic-512x384.py':
        ('92.0', ['train', 'val'], ['CocoDataset', 'AicRawDataset']),
    'posefix/posefix_res152_8xb16-140e_lip-trainval-coco-384x288.py': (None, ['train', 'val'], ['CocoDataset']),
    'posefix/posefix_res152_8xb16-140e_lip-coco-384x288.py': (None, ['train'], ['CocoDataset']),
}
NAME = re.compile(r'^(td-hm|posefix)_[a-z0-9-]+_\d+xb\d+-\d+e_[a-z-]+-(\d+)x(\d+)\.py$')


def test_every_config_of_the_table_is_there_and_nothing_else():
    found = {str(p.relative_to(CONFIGS_DIR / 'pose')) for p in (CONFIGS_DIR / 'pose').rglob('*.py')}
    assert found == set(TABLE)


def _load(name):
    from mmengine.config import Config
    return Config.fromfile(str(CONFIGS_DIR / 'pose' / name))


def _affine_sizes(pipeline):
    return [tuple(step['input_size']) for step in pipeline if step['type'] == 'TopdownAffine']


@pytest.mark.parametrize('name', sorted(TABLE))
def test_config_states_its_target_and_is_consistent(name):
    target, lip_splits, external = TABLE[name]
    head = Path(CONFIGS_DIR / 'pose' / name).read_text().split('_base_')[0]
    match = re.search(r"Target \(the seed's LIP test PCKh@0\.5\): (\S+)", head)
    assert match, 'each config states the seed target in its header'
    if target is not None:
        assert match.group(1) == target
    height, width = (int(v) for v in NAME.match(Path(name).name).groups()[1:])

    cfg = _load(name)
    codec = cfg.codec[0] if isinstance(cfg.codec, list) else cfg.codec
    assert tuple(codec['input_size']) == (width, height)
    decoder = cfg.model.head.decoder
    assert tuple(decoder['input_size']) == (width, height)
    if 'heatmap_size' in decoder:
        assert tuple(decoder['heatmap_size']) == (width // 4, height // 4)
    if cfg.model.head.type == 'MSPNHead':
        assert tuple(cfg.model.head.out_shape) == (height // 4, width // 4)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert _affine_sizes(cfg[loader].dataset.pipeline) == [(width, height)]

    train = cfg.train_dataloader.dataset
    subsets = train.datasets if train.type == 'CombinedDataset' else [train]
    assert [d.split for d in subsets if d.type == 'LIPPoseDataset'] == lip_splits
    assert [d.type for d in subsets if d.type != 'LIPPoseDataset'] == external
    assert cfg.val_dataloader.dataset.type == 'LIPPoseDataset' and cfg.val_evaluator.type == 'LIPPCKhMetric'
    # ImageNet weights: a published name, downloaded once and read by the safe loader (tests/core/test_pretrained.py)
    from lip_toolkit.core.pretrained import is_published_name
    init_cfg = cfg.model.backbone.init_cfg
    assert init_cfg.type == 'Pretrained' and is_published_name(init_cfg.checkpoint)
    assert cfg.default_scope == 'mmpose' and cfg.custom_imports.imports == ['lip_toolkit.pose.plugins']
