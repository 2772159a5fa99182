"""Tests for lip_toolkit/pose/metrics.py: the LIP PCKh rules, checked against a plain loop implementation."""
import math

import numpy as np
import pytest

from lip_toolkit.pose.lip_csv import read_lip_gt_csv
from lip_toolkit.pose.metrics import LIPPCKhMetric, compute_lip_pckh, count_scored_images

PARTS = {'Head': (8, 9), 'Shoulder': (12, 13), 'Elbow': (11, 14), 'Wrist': (10, 15), 'Hip': (2, 3),
         'Knee': (1, 4), 'Ankle': (0, 5)}


def loop_pckh(gt, pred, threshold=0.5):
    """The published logic (lip-facts.md section 2), written one image and one joint at a time."""
    def missing(value):
        return math.isnan(value) or value < 0

    hits = [0] * 16
    counts = [0] * 16
    for n in range(len(gt)):
        neck, head = gt[n][8], gt[n][9]
        if missing(neck[0]) or missing(neck[1]) or missing(head[0]) or missing(head[1]):
            continue
        head_size = math.hypot(head[0] - neck[0], head[1] - neck[1])
        if head_size == 0:
            continue
        for j in range(16):
            gx, gy = gt[n][j][0], gt[n][j][1]
            if missing(gx) or missing(gy):
                continue
            px, py = pred[n][j][0], pred[n][j][1]
            px = 1.0 if missing(px) else px
            py = 1.0 if missing(py) else py
            counts[j] += 1
            if math.sqrt((px - gx) ** 2 + (py - gy) ** 2) / head_size <= threshold:
                hits[j] += 1

    def pooled(joints):
        total = sum(counts[j] for j in joints)
        return 100.0 * sum(hits[j] for j in joints) / total if total else float('nan')

    per_joint = [pooled([j]) for j in range(16)]
    result = {part: (per_joint[a] + per_joint[b]) / 2 for part, (a, b) in PARTS.items()}
    result['UBody'] = pooled(range(8, 16))
    result['Mean'] = pooled(list(range(0, 6)) + list(range(8, 16)))
    result['per_joint'] = per_joint
    return result


def assert_same(result, expected, tol=1e-9):
    assert set(result) == set(expected)
    for key, value in expected.items():
        got = result[key] if key != 'per_joint' else result['per_joint']
        np.testing.assert_allclose(got, value, rtol=0, atol=tol, equal_nan=True, err_msg=key)


def noisy_predictions(gt, seed=0):
    """Predictions derived from the ground truth: noise of about half a head, some nan, some negative."""
    rng = np.random.default_rng(seed)
    head = np.linalg.norm(gt[:, 9, :2] - gt[:, 8, :2], axis=1)
    scale = np.where(np.isnan(head), 20.0, head)[:, None, None]
    pred = gt[..., :2] + rng.normal(0, 0.35, gt[..., :2].shape) * scale
    pred = np.where(np.isnan(pred), rng.uniform(0, 200, pred.shape), pred)
    pred[rng.random(pred.shape[:2]) < 0.05] = np.nan
    pred[rng.random(pred.shape[:2]) < 0.01, 0] = -3.0
    return np.round(pred)


def test_real_val_matches_loop_reference(real_lip_dir):
    _, gt = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    pred = noisy_predictions(gt)
    result = compute_lip_pckh(gt, pred)
    assert_same(result, loop_pckh(gt.tolist(), pred.tolist()))
    assert 20 < result['Mean'] < 95  # the noise makes a real mix of hits and misses
    assert count_scored_images(gt) == 10000 - 294  # lip-facts.md: 294 val rows lack head top or neck


def test_ground_truth_against_itself_is_100(real_lip_dir):
    _, gt = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    result = compute_lip_pckh(gt, gt)
    assert all(result[k] == 100.0 for k in result if k != 'per_joint') and result['per_joint'] == [100.0] * 16


def one_person():
    gt = np.full((1, 16, 3), np.nan)
    gt[0, 8] = (10, 10, 0)
    gt[0, 9] = (10, 20, 1)  # head size exactly 10
    gt[0, 0] = (30, 30, 1)  # occluded joints are scored
    return gt


def test_distance_of_exactly_half_a_head_counts():
    gt = one_person()
    pred = gt[..., :2].copy()
    pred[0, 0] = (33, 34)  # 3-4-5 triangle: distance 5 = 0.5 * 10 exactly
    assert compute_lip_pckh(gt, pred)['per_joint'][0] == 100.0
    pred[0, 0] = (34, 34)  # 5.66 > 5
    assert compute_lip_pckh(gt, pred)['per_joint'][0] == 0.0


def test_missing_prediction_is_scored_at_pixel_1_1():
    gt = one_person()
    gt[0, 0] = (2, 3, 0)  # 2.24 px from (1, 1): within half a head
    pred = np.full((1, 16, 2), np.nan)
    result = compute_lip_pckh(gt, pred)
    assert result['per_joint'][0] == 100.0 and result['per_joint'][8] == 0.0
    pred[0, 0] = (-5, -1)  # negative coordinates are moved to 1 as well
    assert compute_lip_pckh(gt, pred)['per_joint'][0] == 100.0


@pytest.mark.parametrize('joint', [8, 9])
def test_image_without_head_top_or_neck_is_dropped(joint):
    gt = np.concatenate([one_person(), one_person()])
    gt[1, joint] = np.nan
    pred = gt[..., :2].copy()
    pred[1] = 500  # all wrong, but the image does not count
    result = compute_lip_pckh(gt, pred)
    assert result['Mean'] == 100.0 and count_scored_images(gt) == 1


def test_nan_rows_and_unlabelled_joints_are_not_scored():
    gt = np.concatenate([one_person(), np.full((1, 16, 3), np.nan)])
    result = compute_lip_pckh(gt, np.zeros((2, 16, 2)))
    assert math.isnan(result['per_joint'][5]) and math.isnan(result['Knee'])
    assert result['per_joint'][0] == 0.0 and result['Mean'] == 0.0
    everything_missing = compute_lip_pckh(np.full((3, 16, 3), np.nan), np.zeros((3, 16, 2)))
    assert all(math.isnan(v) for v in everything_missing['per_joint'])


def test_pelvis_and_spine_left_out_of_mean():
    gt = one_person()
    gt[0, 6] = (50, 50, 0)
    gt[0, 7] = (60, 60, 0)
    pred = gt[..., :2].copy()
    pred[0, 6] = pred[0, 7] = 0
    result = compute_lip_pckh(gt, pred)
    assert result['Mean'] == 100.0 and result['per_joint'][6] == 0.0


def test_shape_errors():
    with pytest.raises(ValueError):
        compute_lip_pckh(np.zeros((2, 15, 3)), np.zeros((2, 15, 2)))
    with pytest.raises(ValueError):
        compute_lip_pckh(np.zeros((2, 16, 3)), np.zeros((3, 16, 2)))


def samples_for(names, gt, pred, ids=None):
    ids = range(len(names)) if ids is None else ids
    return [dict(id=i, img_path=f'/data/val_images/{name}', raw_ann_info=dict(lip_keypoints=g),
                 pred_instances=dict(keypoints=p[None].astype(np.float32), keypoint_scores=np.ones((1, 16))))
            for i, name, g, p in zip(ids, names, gt, pred)]


def test_metric_equals_compute_lip_pckh_on_real_val(real_lip_dir, tmp_path):
    names, gt = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    pred = noisy_predictions(gt, seed=1)
    pred = np.where(np.isnan(pred), 7.0, pred)  # a model never outputs nan
    metric = LIPPCKhMetric(out_file=str(tmp_path / 'pred.csv'))
    metric.dataset_meta = {}
    order = np.random.default_rng(0).permutation(len(names))  # batches may arrive in any order
    for start in range(0, len(order), 1000):
        batch = order[start:start + 1000]
        metric.process([], samples_for([names[i] for i in batch], gt[batch], pred[batch], ids=batch))
    metrics = metric.evaluate(len(names))
    expected = compute_lip_pckh(gt, np.clip(pred, 0, None))
    assert metrics['LIP/PCKh'] == expected['Mean']
    for key in ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle', 'UBody', 'Mean'):
        assert metrics[f'LIP/{key}'] == expected[key]
    written = (tmp_path / 'pred.csv').read_text().splitlines()
    assert [line.split(',')[0] for line in written] == names  # dataset order


def test_metric_without_ground_truth_only_writes_csv(tmp_path):
    metric = LIPPCKhMetric(out_file=str(tmp_path / 'test.csv'), prefix='x')
    samples = samples_for(['b.jpg', 'a.jpg'], [None, None], np.full((2, 16, 2), 3.7), ids=[1, 0])
    for sample in samples:
        del sample['raw_ann_info']
    metric.process([], samples)
    assert metric.evaluate(2) == {}
    assert (tmp_path / 'test.csv').read_text().splitlines()[0] == 'a.jpg,' + ','.join(['4'] * 32)


def test_metric_falls_back_to_visibility_masked_gt_instances():
    gt = one_person()  # labelled: 0, 8, 9; the other 13 joints are not
    keypoints = np.nan_to_num(gt[0, :, :2])[None]  # an unlabelled joint sits at (0, 0), as MMPose stores it
    visible = (~np.isnan(gt[0, :, 0]))[None].astype(np.float32)
    prediction = np.full_like(keypoints, 50.0)  # far from (0, 0) ...
    prediction[0, [0, 8, 9]] = keypoints[0, [0, 8, 9]]  # ... and exact where the joint is labelled
    sample = dict(id=0, img_path='x.jpg', gt_instances=dict(keypoints=keypoints, keypoints_visible=visible),
                  pred_instances=dict(keypoints=prediction))
    metric = LIPPCKhMetric(round_to_int=False)
    metric.process([], [sample])
    # by hand: only the 3 labelled joints are scored, all hits. Scoring the (0, 0) placeholders as well would
    # give 3 hits out of the 14 joints of the mean (pelvis and spine left out): 21.4.
    assert metric.evaluate(1)['LIP/Mean'] == 100.0
