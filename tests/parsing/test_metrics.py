"""LIP mIoU: the pure formula and the MMSeg metric, against a straightforward reference implementation."""
import numpy as np
import pytest
import torch

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.classes import LIP_CLASSES
from lip_toolkit.parsing.metrics import LIPMIoUMetric, confusion_matrix, miou_from_confusion

from ._label_helpers import assert_scores_match, random_pair, reference_scores


def _scores_of(pairs):
    conf = sum(confusion_matrix(gt, pred) for gt, pred in pairs)
    return miou_from_confusion(conf)


def test_random_maps_match_reference_formula():
    rng = np.random.default_rng(1)
    pairs = [random_pair(rng, int(rng.integers(20, 90)), int(rng.integers(20, 90))) for _ in range(12)]
    assert_scores_match(_scores_of(pairs), reference_scores(pairs), LIP_CLASSES)


def test_empty_classes_count_as_zero_in_the_mean():
    rng = np.random.default_rng(2)
    pairs = [random_pair(rng, 40, 30, present=[0, 2, 5, 9, 13]) for _ in range(4)]
    scores = _scores_of(pairs)
    assert_scores_match(scores, reference_scores(pairs), LIP_CLASSES)
    assert scores['IoU']['Hat'] == 0.0
    # nanmean over the present classes (what MMSeg's IoUMetric reports) would be 4 times larger here
    present = [scores['IoU'][LIP_CLASSES[c]] for c in (0, 2, 5, 9, 13)]
    assert scores['mIoU'] == pytest.approx(sum(present) / 20, abs=1e-12)


def test_hand_computed_example():
    gt = np.array([[0, 0, 1, 1],
                   [0, 255, 1, 2]])
    pred = np.array([[0, 1, 1, 1],
                     [0, 19, 2, 2]])
    conf = confusion_matrix(gt, pred)
    assert conf[0, 0] == 2 and conf[0, 1] == 1 and conf[1, 1] == 2 and conf[1, 2] == 1 and conf[2, 2] == 1
    assert conf.sum() == 7  # the 255 pixel (predicted 19) is not counted anywhere
    scores = miou_from_confusion(conf)
    # class 0: tp 2, pos 3, res 2 -> 2/3; class 1: tp 2, pos 3, res 3 -> 2/4; class 2: tp 1, pos 1, res 2 -> 1/2
    assert scores['IoU']['Background'] == pytest.approx(100 * 2 / 3)
    assert scores['IoU']['Hat'] == pytest.approx(50.0)
    assert scores['IoU']['Hair'] == pytest.approx(50.0)
    assert scores['mIoU'] == pytest.approx(100 * (2 / 3 + 0.5 + 0.5) / 20)
    assert scores['pixel_acc'] == pytest.approx(100 * 5 / 7)
    assert scores['mean_acc'] == pytest.approx(100 * (2 / 3 + 2 / 3 + 1) / 20)


def test_all_ignored_gives_zeros_not_nan():
    scores = miou_from_confusion(confusion_matrix(np.full((3, 3), 255), np.zeros((3, 3), int)))
    assert scores['mIoU'] == 0.0 and scores['pixel_acc'] == 0.0 and scores['mean_acc'] == 0.0


@pytest.mark.parametrize('gt, pred, message', [
    (np.array([[0, 20]]), np.array([[0, 1]]), 'ground truth value 20 at pixel (x=1, y=0)'),
    (np.array([[0, 1]]), np.array([[0, 255]]), 'prediction value 255 at pixel (x=1, y=0)'),
    (np.zeros((2, 2), int), np.zeros((2, 3), int), 'differs'),
])
def test_confusion_matrix_rejects_bad_input(gt, pred, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        confusion_matrix(gt, pred)


def _sample(gt, pred, path='img/a.jpg'):
    return {'pred_sem_seg': {'data': torch.as_tensor(pred)[None]},
            'gt_sem_seg': {'data': torch.as_tensor(gt)[None]},
            'img_path': path, 'seg_map_path': path.replace('.jpg', '.png')}


def test_metric_equals_pure_formula_and_is_registered():
    from mmseg.registry import METRICS
    metric = METRICS.build(dict(type='LIPMIoUMetric'))
    assert isinstance(metric, LIPMIoUMetric)
    metric.dataset_meta = {'classes': LIP_CLASSES}
    rng = np.random.default_rng(3)
    pairs = [random_pair(rng, int(rng.integers(10, 50)), int(rng.integers(10, 50))) for _ in range(6)]
    for start in range(0, 6, 2):  # batches of two
        metric.process({}, [_sample(gt, pred) for gt, pred in pairs[start:start + 2]])
    result = metric.evaluate(len(pairs))
    reference = reference_scores(pairs)
    for key in ('mIoU', 'pixel_acc', 'mean_acc'):
        assert abs(result[key] - reference[key]) <= 1e-9
    for name, expected in zip(LIP_CLASSES, reference['IoU']):
        assert abs(result[f'IoU.{name}'] - expected) <= 1e-9


def test_metric_refuses_prediction_not_at_original_size():
    metric = LIPMIoUMetric()
    metric.dataset_meta = {'classes': LIP_CLASSES}
    with pytest.raises(LipToolkitError, match='original size') as info:
        metric.process({}, [_sample(np.zeros((4, 6), np.uint8), np.zeros((5, 6), np.int64), 'x/img7.jpg')])
    assert 'img7.png' in str(info.value)


def test_metric_saves_paletted_predictions(tmp_path):
    from lip_toolkit.parsing.label_io import read_label_map
    metric = LIPMIoUMetric(output_dir=str(tmp_path / 'out'), format_only=True)
    metric.dataset_meta = {'classes': LIP_CLASSES}
    pred = np.arange(20).reshape(4, 5)
    metric.process({}, [{'pred_sem_seg': {'data': torch.as_tensor(pred)[None]}, 'img_path': 'a/100_1.jpg'}])
    assert metric.evaluate(1) == {}
    assert (read_label_map(tmp_path / 'out' / '100_1.png', 'pred') == pred).all()
