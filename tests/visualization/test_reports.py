"""Bar charts from `evaluate pose|parsing --json` files."""
import json

import cv2
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.classes import LIP_CLASSES, LIP_PALETTE
from lip_toolkit.pose.evaluation import write_pckh_json
from lip_toolkit.pose.metrics import compute_lip_pckh
from lip_toolkit.visualization.pose import LEFT_COLOR, RIGHT_COLOR
from lip_toolkit.visualization.reports import load_scores, plot_report, plot_scores, pose_summary


def has_colour(picture, bgr, tolerance=3):
    return bool((np.abs(picture.astype(int) - np.array(bgr)).max(axis=2) <= tolerance).any())


def test_pose_chart_from_the_evaluate_json(tmp_path, real_lip_dir):
    from lip_toolkit.pose.lip_csv import read_lip_gt_csv
    _, gt = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    gt = gt[:200]
    pred = gt[:, :, :2] + np.random.default_rng(0).normal(0, 6, (len(gt), 16, 2))
    write_pckh_json(tmp_path / 'pose.json', compute_lip_pckh(gt, pred))
    track, out = plot_report(tmp_path / 'pose.json', tmp_path / 'pose.png')
    assert track == 'pose'
    picture = cv2.imread(str(out))
    assert picture.shape == (450, 1300, 3)
    # Per-joint bars in the side colours of the skeleton pictures.
    assert has_colour(picture, LEFT_COLOR) and has_colour(picture, RIGHT_COLOR)


def test_parsing_chart_uses_class_colours(tmp_path):
    iou = {name: 10.0 + 4 * i for i, name in enumerate(LIP_CLASSES)}
    scores = {'mIoU': float(np.mean(list(iou.values()))), 'pixel_acc': 90.0, 'mean_acc': 60.0, 'IoU': iou}
    (tmp_path / 'parsing.json').write_text(json.dumps(scores))
    track, out = plot_report(tmp_path / 'parsing.json', tmp_path / 'parsing.png')
    assert track == 'parsing'
    picture = cv2.imread(str(out))
    assert picture.shape == (480, 1100, 3)
    assert has_colour(picture, LIP_PALETTE[14][::-1])  # Left-arm's bar


def test_unknown_or_broken_scores_are_refused(tmp_path):
    (tmp_path / 'other.json').write_text('{"accuracy": 3}')
    with pytest.raises(LipToolkitError, match='neither pose scores'):
        load_scores(tmp_path / 'other.json')
    (tmp_path / 'short.json').write_text('{"per_joint": [1, 2]}')
    with pytest.raises(LipToolkitError, match='16 values'):
        load_scores(tmp_path / 'short.json')
    (tmp_path / 'bad.json').write_text('{')
    with pytest.raises(LipToolkitError, match='not a JSON file'):
        load_scores(tmp_path / 'bad.json')
    with pytest.raises(LipToolkitError, match='scores file not found'):
        load_scores(tmp_path / 'missing.json')
    # `evaluate CONFIG CHECKPOINT --json` and `ensemble --json` results: counts are not bars, nesting is found
    nested = {'ensemble': {'per_joint': [50.0] * 15 + [None], 'Mean': 50.0, 'num_images': 10000}}
    (tmp_path / 'nested.json').write_text(json.dumps(nested))
    assert load_scores(tmp_path / 'nested.json')[0] == 'pose'
    assert pose_summary(load_scores(tmp_path / 'nested.json')[1]) == [('Mean', 50.0)]
    assert plot_report(tmp_path / 'nested.json', tmp_path / 'nested.svg')[1].read_text().startswith('<?xml')


def test_plot_scores_takes_the_evaluation_result_directly(tmp_path):
    gt = np.zeros((4, 16, 3))
    gt[:, :, 0] = np.arange(16) * 10.0
    gt[:, :, 1] = 50.0
    gt[:, 8, :2] = (80.0, 40.0)
    gt[:, 9, :2] = (80.0, 0.0)
    gt[:, 15] = np.nan  # never labelled: nan in the result, 'n/a' in the chart
    scores = compute_lip_pckh(gt, gt[:, :, :2])
    assert np.isnan(scores['per_joint'][15])
    track, out = plot_scores(scores, tmp_path / 'direct.png', title='direct')
    assert track == 'pose' and cv2.imread(str(out)).shape == (450, 1300, 3)


def _pose_block(value):
    return {'per_joint': [value] * 16, 'Head': value, 'Mean': value, 'PCKh': value}


def test_ensemble_report_charts_the_final_score_after_the_refiner(tmp_path):
    import matplotlib
    # The blocks and their order as `ensemble --json` writes them for a pose ensemble with a PoseFix refiner.
    result = {'track': 'pose', 'split': 'val', 'num_images': 24,
              'members': [dict(name='hrnet', weight=0.5, **_pose_block(40.0)),
                          dict(name='mspn', weight=0.5, **_pose_block(50.0))],
              'ensemble': _pose_block(55.0), 'refined': _pose_block(61.0),
              'versus_best': {'metric': 'PCKh', 'final': 'ensemble + refiner', 'final_score': 61.0}}
    (tmp_path / 'ensemble.json').write_text(json.dumps(result))
    assert load_scores(tmp_path / 'ensemble.json')[1]['Mean'] == 61.0
    with matplotlib.rc_context({'svg.fonttype': 'none'}):  # keep text as text to read the chart back
        svg = plot_report(tmp_path / 'ensemble.json', tmp_path / 'ensemble.svg')[1].read_text()
    assert '61.0' in svg and '55.0' not in svg and '50.0' not in svg
    assert 'ensemble.json (ensemble + refiner)' in svg
    # Without a refiner, the ensemble block is the final one.
    del result['refined']
    (tmp_path / 'plain.json').write_text(json.dumps(result))
    assert load_scores(tmp_path / 'plain.json')[1]['Mean'] == 55.0
