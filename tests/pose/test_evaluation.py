"""Tests for lip_toolkit/pose/evaluation.py: matching prediction rows to ground truth by name, JSON, table."""
import json

import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.pose.evaluation import evaluate_pose_files, format_pckh_table, pckh_json, write_pckh_json
from lip_toolkit.pose.lip_csv import read_lip_gt_csv, write_lip_pred_csv
from lip_toolkit.pose.metrics import compute_lip_pckh

from .test_metrics import assert_same, loop_pckh, noisy_predictions


@pytest.fixture(scope='module')
def real_val(real_lip_dir):
    names, gt = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    return real_lip_dir / 'lip_val_set.csv', names, gt


def test_shuffled_noisy_predictions_match_loop_reference(real_val, tmp_path):
    gt_csv, names, gt = real_val
    pred = noisy_predictions(gt, seed=2)
    pred = np.clip(pred, 0, None)  # a CSV cannot hold negative values
    order = np.random.default_rng(3).permutation(len(names))
    pred_csv = write_lip_pred_csv(tmp_path / 'pred.csv', [names[i] for i in order], pred[order])
    evaluation = evaluate_pose_files(gt_csv, pred_csv)
    assert_same(evaluation.scores, loop_pckh(gt.tolist(), pred.tolist()))
    assert evaluation.num_images == 10000 and evaluation.num_scored_images == 9706 and not evaluation.missing


def test_ground_truth_file_against_itself(real_val):
    gt_csv, _, _ = real_val
    scores = evaluate_pose_files(gt_csv, gt_csv).scores
    assert scores['Mean'] == 100.0 and scores['UBody'] == 100.0


def small_gt(tmp_path):
    gt = np.full((3, 16, 3), np.nan)
    for n in range(3):
        gt[n, 8] = (10, 10, 0)
        gt[n, 9] = (10, 20, 0)
        gt[n, 0] = (40, 40, 1)
    path = tmp_path / 'gt.csv'
    rows = [f'{n}.jpg,' + ','.join('nan' if np.isnan(v) else str(int(v)) for v in gt[n].ravel())
            for n in range(3)]
    path.write_text('\n'.join(rows) + '\n')
    return path, gt


def test_missing_unknown_and_allow_missing(tmp_path):
    gt_csv, gt = small_gt(tmp_path)
    pred_csv = write_lip_pred_csv(tmp_path / 'pred.csv', ['2.jpg', '0.jpg'], gt[[2, 0], :, :2])
    with pytest.raises(LipToolkitError) as info:
        evaluate_pose_files(gt_csv, pred_csv)
    assert "no prediction for 1 of 3 ground-truth images, first '1.jpg'" in info.value.message
    assert info.value.path == str(pred_csv)
    evaluation = evaluate_pose_files(gt_csv, pred_csv, allow_missing=True)
    assert evaluation.missing == ['1.jpg']
    expected = gt[..., :2].copy()
    expected[1] = np.nan
    assert_same(evaluation.scores, compute_lip_pckh(gt, expected), tol=0)
    assert evaluation.scores['per_joint'][0] == pytest.approx(200 / 3)
    assert '1 without a prediction' in evaluation.table()

    unknown = write_lip_pred_csv(tmp_path / 'unknown.csv', ['0', '1', '2', '9'], np.zeros((4, 16, 2)))
    with pytest.raises(LipToolkitError) as info:
        evaluate_pose_files(gt_csv, unknown, allow_missing=True)
    assert "'9.jpg' is not in the ground truth" in info.value.message and info.value.location == 'line 4'


def test_json_has_the_documented_keys_and_null_for_nan(tmp_path):
    gt_csv, gt = small_gt(tmp_path)
    scores = evaluate_pose_files(gt_csv, gt_csv).scores
    path = write_pckh_json(tmp_path / 'out' / 'scores.json', scores)
    data = json.loads(path.read_text())
    assert list(data) == ['Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle', 'UBody', 'Mean',
                          'per_joint']
    assert data['Ankle'] is None and data['Head'] == 100.0 and data['per_joint'][0] == 100.0
    assert data['per_joint'][1] is None and len(data['per_joint']) == 16
    assert pckh_json(scores) == data


def test_table_layout():
    scores = {k: 50.0 for k in ('Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle', 'UBody', 'Mean')}
    scores['Ankle'] = 12.345
    scores['per_joint'] = [float(i) for i in range(16)]
    lines = format_pckh_table(scores, scored_images=9, total_images=10).splitlines()
    assert lines[0] == '9 of 10 images scored (1 without head top or neck)'
    assert lines[1].split() == ['PCKh@0.5', 'Head', 'Sho.', 'Elb.', 'Wri.', 'Hip', 'Knee', 'Ank.', 'U.Body',
                                'Avg.']
    assert lines[2].split() == ['50.0'] * 6 + ['12.3', '50.0', '50.0']
    assert lines[3].split()[1] == 'r_ankle' and lines[6].split()[-1] == '15.0'
