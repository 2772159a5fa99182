"""Tests for lip_toolkit/pose/datasets/lip_pose.py: LIPPoseDataset on the real layout, nested unzips, test split."""
import shutil

import numpy as np
import pytest
from PIL import Image

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.pose.datasets import LIPPoseDataset, find_lip_pose_files
from lip_toolkit.pose.evaluation import evaluate_pose_files
from lip_toolkit.pose.lip_csv import read_lip_gt_csv
from lip_toolkit.pose.metrics import LIPPCKhMetric, compute_lip_pckh

VAL_PIPELINE = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=(64, 64)),
    dict(type='PackPoseInputs'),
]


@pytest.fixture(autouse=True)
def mmpose_scope():
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('mmpose')
    yield
    DefaultScope._instance_dict.clear()


def build(**cfg):
    from mmpose.registry import DATASETS
    cfg.setdefault('serialize_data', False)  # serialising runs gc.collect(): ~0.6 s a build, for nothing here
    return DATASETS.build(dict(type='LIPPoseDataset', **cfg))


@pytest.fixture(scope='module')
def real_tree(real_lip_dir, tmp_path_factory):
    """The six real val images in the doubly nested unzip layout, with their rows of the real CSV."""
    root = tmp_path_factory.mktemp('lip_real')
    image_dir = root / 'TrainVal_images' / 'TrainVal_images' / 'val_images'
    image_dir.mkdir(parents=True)
    wanted = set()
    for image in sorted((real_lip_dir / 'images').glob('*.jpg')):
        shutil.copy(image, image_dir / image.name)
        wanted.add(image.name)
    rows = [line for line in (real_lip_dir / 'lip_val_set.csv').read_text().splitlines()
            if line.split(',', 1)[0] in wanted]
    assert len(rows) == 6
    (root / 'TrainVal_pose_annotations').mkdir()
    (root / 'TrainVal_pose_annotations' / 'lip_val_set.csv').write_text('\n'.join(rows) + '\n')
    return root


def test_real_images_in_nested_layout(real_tree, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the metainfo must be found from any working directory
    dataset = build(data_root=str(real_tree), split='val', pipeline=VAL_PIPELINE)
    names, gt = read_lip_gt_csv(real_tree / 'TrainVal_pose_annotations' / 'lip_val_set.csv')
    assert len(dataset) == 6 and dataset.test_mode
    meta = dataset.metainfo
    assert meta['dataset_name'] == 'lip' and meta['num_keypoints'] == 16
    assert meta['flip_indices'] == [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]
    for index, name in enumerate(names):
        info = dataset.get_data_info(index)
        width, height = Image.open(info['img_path']).size
        assert info['img_path'].endswith(f'TrainVal_images/TrainVal_images/val_images/{name}')
        assert info['bbox'].tolist() == [[0, 0, width, height]]
        labelled = ~np.isnan(gt[index, :, 0])
        assert info['keypoints_visible'][0].tolist() == labelled.astype(float).tolist()
        np.testing.assert_array_equal(info['keypoints'][0][labelled], gt[index, labelled, :2])
        assert info['keypoints_occluded'][0][labelled].tolist() == gt[index, labelled, 2].tolist()
        np.testing.assert_array_equal(info['raw_ann_info']['lip_keypoints'], gt[index])
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 64, 64)
    assert sample['data_samples'].metainfo['raw_ann_info']['image_name'] == names[0]


def test_metric_through_the_pipeline_equals_offline_scoring(real_tree, tmp_path):
    """Packed samples + LIPPCKhMetric give the numbers compute_lip_pckh and evaluate pose give."""
    dataset = build(data_root=str(real_tree), split='val', pipeline=VAL_PIPELINE)
    csv = real_tree / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
    _, gt = read_lip_gt_csv(csv)
    rng = np.random.default_rng(0)
    pred = np.nan_to_num(gt[..., :2], nan=50.0) + rng.normal(0, 6, (6, 16, 2))
    metric = LIPPCKhMetric(out_file=str(tmp_path / 'pred.csv'))
    metric.dataset_meta = dataset.metainfo
    for index in (3, 1, 0, 5, 2, 4):
        sample = dataset[index]['data_samples']
        sample.pred_instances = sample.gt_instances.clone()
        sample.pred_instances.keypoints = pred[index][None].astype(np.float32)
        metric.process([], [sample.to_dict()])
    metrics = metric.evaluate(6)
    expected = compute_lip_pckh(gt, np.round(pred.astype(np.float32)))
    assert metrics['LIP/Mean'] == expected['Mean'] and metrics['LIP/Head'] == expected['Head']
    offline = evaluate_pose_files(csv, tmp_path / 'pred.csv').scores
    assert offline == expected


def tiny_tree(root, nested=False):
    """A LIP tree with three train images (one with no labelled joint) and two test images."""
    top = root / 'TrainVal_images' / ('TrainVal_images' if nested else '')
    (top / 'train_images').mkdir(parents=True)
    test_top = root / 'Testing_images' / ('Testing_images' if nested else '')
    (test_top / 'testing_images').mkdir(parents=True)
    for i, size in enumerate([(40, 60), (50, 30), (20, 20)]):
        Image.new('RGB', size, (i * 40, 0, 0)).save(top / 'train_images' / f'{i}_1.jpg')
    for i in range(2):
        Image.new('RGB', (33, 44)).save(test_top / 'testing_images' / f't{i}.jpg')
    (test_top / 'test_id.txt').write_text('t1\nt0\n')
    labelled = ','.join(['5,6,0'] * 15) + ',7,8,1'
    rows = [f'0_1.jpg,{labelled}', '1_1.jpg,' + ','.join(['nan'] * 48), f'2_1.jpg,{labelled}']
    (root / 'TrainVal_pose_annotations').mkdir()
    (root / 'TrainVal_pose_annotations' / 'lip_train_set.csv').write_text('\n'.join(rows) + '\n')
    return root


@pytest.mark.parametrize('nested', [False, True])
def test_train_drops_rows_without_joints_and_test_split_has_no_keypoints(tmp_path, nested):
    root = tiny_tree(tmp_path, nested)
    train = build(data_root=str(root), split='train')
    assert not train.test_mode and len(train) == 2
    first = train.get_data_info(0)
    assert first['bbox'].tolist() == [[0, 0, 40, 60]] and first['keypoints_occluded'][0, 15] == 1
    assert len(build(data_root=str(root), split='train', test_mode=True)) == 3  # evaluation keeps every row

    test = build(data_root=str(root), split='test', pipeline=VAL_PIPELINE)
    assert len(test) == 2
    info = test.get_data_info(0)
    assert info['img_path'].endswith('testing_images/t1.jpg') and 'keypoints' not in info
    assert info['bbox'].tolist() == [[0, 0, 33, 44]] and info['raw_ann_info']['lip_keypoints'] is None
    packed = test[1]
    assert tuple(packed['inputs'].shape) == (3, 64, 64)
    assert packed['data_samples'].img_path.endswith('t0.jpg')


def test_relative_data_root_and_overrides(tmp_path, monkeypatch):
    tiny_tree(tmp_path / 'data' / 'LIP')
    monkeypatch.chdir(tmp_path)
    train = build(data_root='data/LIP', split='train')
    assert train.get_data_info(0)['img_path'] == str(tmp_path / 'data/LIP/TrainVal_images/train_images/0_1.jpg')
    (tmp_path / 'ids.txt').write_text('2_1\n')
    test = build(data_root='data/LIP', split='test', img_dir='TrainVal_images/train_images',
                 id_file=str(tmp_path / 'ids.txt'))
    assert len(test) == 1 and test.get_data_info(0)['bbox'].tolist() == [[0, 0, 20, 20]]
    explicit = build(split='train', ann_file=str(tmp_path / 'data/LIP/TrainVal_pose_annotations/lip_train_set.csv'),
                     img_dir=str(tmp_path / 'data/LIP/TrainVal_images/train_images'))
    assert len(explicit) == 2
    elsewhere = build(data_root=str(tmp_path), split='test', img_dir='data/LIP/TrainVal_images/train_images',
                      id_file='ids.txt')  # no Testing_images folder needed when both are given
    assert len(elsewhere) == 1


def test_synthetic_release_loads_all_splits(synthetic_lip):
    counts = {split: len(build(data_root=str(synthetic_lip), split=split)) for split in ('val', 'test')}
    assert counts == {'val': 24, 'test': 8}
    assert 0 < len(build(data_root=str(synthetic_lip), split='train')) <= 64


def test_errors_name_what_is_missing(tmp_path):
    root = tiny_tree(tmp_path)
    with pytest.raises(LipToolkitError, match='lip_val_set.csv not found'):
        find_lip_pose_files(root, 'val')
    with pytest.raises(LipToolkitError, match='unknown LIP split'):
        find_lip_pose_files(root, 'dev')
    (root / 'TrainVal_images' / 'train_images' / '2_1.jpg').unlink()
    with pytest.raises(LipToolkitError) as info:
        build(data_root=str(root), split='train')
    assert info.value.message == 'image not found' and info.value.path.endswith('2_1.jpg')
    (root / 'TrainVal_images' / 'train_images' / '2_1.jpg').write_text('not a jpeg')
    with pytest.raises(LipToolkitError, match='cannot read image header'):
        build(data_root=str(root), split='train')
    with pytest.raises(LipToolkitError, match='data_prefix'):
        LIPPoseDataset(data_root=str(root), data_prefix=dict(img='x'))


@pytest.mark.slow  # ~10 s: building mmengine's Runner (environment probing, hooks) dominates
def test_runner_test_loop_scores_and_writes_csv(real_tree, tmp_path):
    """mmengine's Runner.test with a tiny untrained top-down model: dataset -> model (flip test) -> metric."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)
    cfg = Config(dict(
        default_scope='mmpose',
        custom_imports=dict(imports=['lip_toolkit.pose.plugins'], allow_failed_imports=False),
        work_dir=str(tmp_path / 'work'),
        model=dict(type='TopdownPoseEstimator',
                   data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.7, 116.3, 103.5],
                                          std=[58.4, 57.1, 57.4], bgr_to_rgb=True),
                   backbone=dict(type='ResNet', depth=18, out_indices=(1, )),
                   head=dict(type='HeatmapHead', in_channels=128, out_channels=16, deconv_out_channels=None,
                             loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
                   test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True)),
        test_dataloader=dict(batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dict(type='LIPPoseDataset', data_root=str(real_tree), split='val',
                                          serialize_data=False, pipeline=VAL_PIPELINE)),
        test_evaluator=dict(type='LIPPCKhMetric', out_file=str(tmp_path / 'pred.csv')),
        test_cfg=dict(),
        log_level='WARNING',
    ))
    metrics = Runner.from_cfg(cfg).test()
    csv = real_tree / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
    offline = evaluate_pose_files(csv, tmp_path / 'pred.csv').scores
    assert metrics['LIP/PCKh'] == offline['Mean'] and metrics['LIP/Head'] == offline['Head']
    names, _ = read_lip_gt_csv(csv)
    rows = (tmp_path / 'pred.csv').read_text().splitlines()
    assert [row.split(',')[0] for row in rows] == names and all(len(row.split(',')) == 33 for row in rows)
