"""Tests for COCO and AI Challenger in LIP's 16 joints: lip_toolkit/pose/datasets/{aic_raw,mappings}.py and
configs/_base_/datasets/lip_pose_coco_aic.py, through MMPose's CombinedDataset and KeypointConverter."""
import json

import numpy as np
import pytest
from PIL import Image

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import CONFIGS_DIR
from lip_toolkit.pose.datasets import AIC_TO_LIP, COCO_TO_LIP, LIP_TO_LIP, masked_lip_joints

BASE = CONFIGS_DIR / '_base_' / 'datasets' / 'lip_pose_coco_aic.py'
# COCO: 5/6 L/R shoulder, 7/8 elbow, 9/10 wrist, 11/12 hip, 13/14 knee, 15/16 ankle (lip-facts.md section 7).
COCO_FOR_LIP = {0: 16, 1: 14, 2: 12, 3: 11, 4: 13, 5: 15, 10: 10, 11: 8, 12: 6, 13: 5, 14: 7, 15: 9}
AIC_FOR_LIP = {0: 8, 1: 7, 2: 6, 3: 9, 4: 10, 5: 11, 8: 13, 9: 12, 10: 2, 11: 1, 12: 0, 13: 3, 14: 4, 15: 5}


@pytest.fixture(autouse=True)
def mmpose_scope():
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('mmpose')
    yield
    DefaultScope._instance_dict.clear()


def coco_keypoints(n=17):
    return np.stack([10 + 3 * np.arange(n), 5 + 2 * np.arange(n)], axis=1).astype(float)


def write_coco(root, aic_style=False):
    """A COCO-style file with one annotated person and one without keypoints (filtered by MMPose)."""
    num = 14 if aic_style else 17
    kpts = np.concatenate([coco_keypoints(num), np.full((num, 1), 2.0)], axis=1)
    kpts[7, 2] = 1  # labelled, not visible: still a training target
    kpts[9] = 0  # unlabelled
    images = [dict(id=1, file_name='img1.jpg', width=100, height=80)]
    annotations = [
        dict(id=1, image_id=1, category_id=1, bbox=[5, 3, 60, 70], area=4200, iscrowd=0,
             num_keypoints=num - 1, keypoints=kpts.ravel().tolist()),
        dict(id=2, image_id=1, category_id=1, bbox=[0, 0, 10, 10], area=100, iscrowd=0, num_keypoints=0,
             keypoints=[0] * (3 * num)),
    ]
    (root / 'annotations').mkdir(parents=True)
    name = 'aic_train.json' if aic_style else 'person_keypoints_train2017.json'
    (root / 'annotations' / name).write_text(json.dumps(dict(
        images=images, annotations=annotations, categories=[dict(id=1, name='person')])))
    folder = root / ('ai_challenger_keypoint_train_20170902/keypoint_train_images_20170902' if aic_style
                     else 'train2017')
    folder.mkdir(parents=True)
    Image.new('RGB', (100, 80)).save(folder / 'img1.jpg')
    return kpts


AIC_JSON = 'ai_challenger_keypoint_train_20170909/keypoint_train_annotations_20170909.json'


def write_aic_raw(root, entries=None):
    """AI Challenger's own format: v 1 visible, 2 occluded, 3 unlabelled; two people in one image."""
    kpts = np.concatenate([coco_keypoints(14) + 1, np.ones((14, 1))], axis=1)
    kpts[4, 2] = 2
    kpts[9] = (0, 0, 3)  # left hip unlabelled: the mid-hip pelvis must be masked too
    other = kpts.copy()
    other[:, 2] = 3  # nobody labelled: dropped
    if entries is None:
        entries = [dict(image_id='abc123', url='http://x',
                        keypoint_annotations=dict(human1=kpts.ravel().tolist(), human2=other.ravel().tolist()),
                        human_annotations=dict(human1=[2, 3, 52, 90], human2=[0, 0, 5, 5]))]
    path = root / AIC_JSON
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(entries))
    images = root / 'ai_challenger_keypoint_train_20170909' / 'keypoint_train_images_20170902'
    images.mkdir(parents=True)
    Image.new('RGB', (60, 100)).save(images / 'abc123.jpg')
    return kpts


def lip_tree(root):
    (root / 'TrainVal_images' / 'train_images').mkdir(parents=True)
    Image.new('RGB', (30, 50)).save(root / 'TrainVal_images' / 'train_images' / '1_1.jpg')
    (root / 'TrainVal_pose_annotations').mkdir()
    (root / 'TrainVal_pose_annotations' / 'lip_train_set.csv').write_text(
        '1_1.jpg,' + ','.join(f'{j + 1},{2 * j + 1},{j % 2}' for j in range(16)) + '\n')


def test_config_mappings_equal_the_python_constants():
    from mmengine import Config
    cfg = Config.fromfile(str(BASE))
    as_tuples = [(tuple(s) if isinstance(s, (list, tuple)) else s, t) for s, t in cfg.coco_to_lip]
    assert as_tuples == COCO_TO_LIP
    assert [(tuple(s) if isinstance(s, (list, tuple)) else s, t) for s, t in cfg.aic_to_lip] == AIC_TO_LIP
    assert [tuple(p) for p in cfg.lip_to_lip] == LIP_TO_LIP
    assert cfg.lip_pose_metainfo['from_file'] == str(CONFIGS_DIR / '_base_' / 'datasets' / 'lip_pose.py')
    assert masked_lip_joints(COCO_TO_LIP) == [7, 8, 9] and masked_lip_joints(AIC_TO_LIP) == [7]


def combined(tmp_path, pipeline, aic_key='aic_to_lip_dataset'):
    from mmengine import Config

    from mmpose.registry import DATASETS
    cfg = Config.fromfile(str(BASE))
    roots = dict(lip=tmp_path / 'lip', coco=tmp_path / 'coco', aic=tmp_path / 'aic')
    lip_tree(roots['lip'])
    coco = write_coco(roots['coco'])
    aic = write_coco(roots['aic'], aic_style=True) if aic_key.startswith('aic_coco') else write_aic_raw(roots['aic'])
    datasets = []
    for key, root in (('lip_train_dataset', 'lip'), ('coco_to_lip_dataset', 'coco'), (aic_key, 'aic')):
        datasets.append(dict(cfg[key], data_root=str(roots[root]), serialize_data=False))
    dataset = DATASETS.build(dict(type='CombinedDataset', metainfo=cfg.lip_pose_metainfo, datasets=datasets,
                                  pipeline=pipeline))
    return dataset, coco, aic


def test_coco_and_aic_raw_land_in_lip_joints(tmp_path):
    dataset, coco, aic = combined(tmp_path, pipeline=[])
    assert dataset.lens == [1, 1, 1] and dataset.metainfo['dataset_name'] == 'lip'
    lip_sample, coco_sample, aic_sample = (dataset[i] for i in range(3))

    assert lip_sample['keypoints'][0, 15].tolist() == [16, 31] and lip_sample['keypoints_visible'][0, :, 0].all()

    for sample, source, table, masked in ((coco_sample, coco, COCO_FOR_LIP, (7, 8, 9)),
                                          (aic_sample, aic, AIC_FOR_LIP, (7,))):
        keypoints, visible = sample['keypoints'][0], sample['keypoints_visible'][0]
        for lip_joint, src in table.items():
            np.testing.assert_allclose(keypoints[lip_joint], source[src, :2])
        for joint in masked:
            assert visible[joint, 0] == 0 and visible[joint, 1] == 0  # no target and no weight
        assert sample['flip_indices'] == [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]

    # COCO: pelvis is the mid-hip; occluded (v=1) joints are targets, unlabelled (v=0) are not.
    np.testing.assert_allclose(coco_sample['keypoints'][0, 6], (coco[11, :2] + coco[12, :2]) / 2)
    assert coco_sample['keypoints_visible'][0, 6, 0] == 1
    assert coco_sample['keypoints_visible'][0, 14, 0] == 1  # COCO 7 (left elbow), v=1
    assert coco_sample['keypoints_visible'][0, 15, 0] == 0  # COCO 9 (left wrist), v=0
    # AIC: occluded (v=2) is labelled, unlabelled (v=3) is not, and the pelvis needs both hips.
    visible = aic_sample['keypoints_visible'][0, :, 0]
    assert visible[14] == 1 and visible[3] == 0 and visible[6] == 0
    assert aic_sample['bbox'].tolist() == [[2, 3, 52, 90]] and aic_sample['img_path'].endswith('abc123.jpg')


def test_full_training_pipeline_masks_missing_joints(tmp_path):
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal', prob=1.0),
        dict(type='TopdownAffine', input_size=(64, 64)),
        dict(type='GenerateTarget', encoder=dict(type='MSRAHeatmap', input_size=(64, 64),
                                                 heatmap_size=(16, 16), sigma=2)),
        dict(type='PackPoseInputs'),
    ]
    dataset, _, _ = combined(tmp_path, pipeline, aic_key='aic_coco_style_to_lip_dataset')
    weights = [dataset[i]['data_samples'].gt_instance_labels.keypoint_weights[0].numpy() for i in range(3)]
    heatmaps = dataset[1]['data_samples'].gt_fields.heatmaps
    assert tuple(heatmaps.shape) == (16, 16, 16)
    assert weights[0].sum() == 16
    # Flipped: LIP slot j holds the mirror joint, so masked spine/neck/head top stay masked.
    assert weights[1][[7, 8, 9]].tolist() == [0, 0, 0] and weights[2][7] == 0 and weights[2][[8, 9]].all()


def test_aic_raw_bad_files(tmp_path):
    from mmpose.registry import DATASETS
    write_aic_raw(tmp_path, entries={'not': 'a list'})
    cfg = dict(type='AicRawDataset', data_root=str(tmp_path), ann_file=AIC_JSON,
               data_prefix=dict(img='ai_challenger_keypoint_train_20170909/keypoint_train_images_20170902/'))
    with pytest.raises(LipToolkitError, match='expected a JSON list'):
        DATASETS.build(cfg)
    (tmp_path / AIC_JSON).write_text('[{"image_id": "a", "keypoint_annotations": {"human1": [1, 2]}, '
                                     '"human_annotations": {"human1": [0, 0, 5, 5]}}]')
    with pytest.raises(LipToolkitError) as info:
        DATASETS.build(cfg)
    assert info.value.location == 'image 0 (a) human1' and '42 keypoint values' in info.value.message
    (tmp_path / AIC_JSON).write_text('[{"url": "x"}]')
    with pytest.raises(LipToolkitError, match='lacks image_id'):
        DATASETS.build(cfg)
