"""Offline scoring of PNG folders: exact numbers, the process pool, errors naming the file, JSON output."""
import json
import sys

import numpy as np
import pytest
import torch

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.classes import LIP_CLASSES
from lip_toolkit.parsing.evaluation import (confusion_from_dirs, evaluate_parsing_dirs, format_miou_table)
from lip_toolkit.parsing.metrics import LIPMIoUMetric

from ._label_helpers import assert_scores_match, random_pair, reference_scores, write_grey, write_paletted


def _write_split(root, pairs, paletted_every=3):
    gt_dir, pred_dir = root / 'gt', root / 'pred'
    gt_dir.mkdir(parents=True)
    pred_dir.mkdir(parents=True)
    ids = []
    for index, (gt, pred) in enumerate(pairs):
        image_id = f'{1000 + index}_{index % 7}'
        ids.append(image_id)
        write_grey(gt_dir / f'{image_id}.png', gt)
        if index % paletted_every == 0:
            write_paletted(pred_dir / f'{image_id}.png', pred, seed=index)
        else:
            write_grey(pred_dir / f'{image_id}.png', pred)
    return gt_dir, pred_dir, ids


@pytest.fixture(scope='module')
def split(tmp_path_factory):
    rng = np.random.default_rng(7)
    pairs = [random_pair(rng, int(rng.integers(16, 60)), int(rng.integers(16, 60))) for _ in range(150)]
    # a block of images holding only a few classes, so some classes are empty in part of the split
    pairs += [random_pair(rng, 24, 24, present=[0, 5, 13]) for _ in range(10)]
    gt_dir, pred_dir, ids = _write_split(tmp_path_factory.mktemp('split'), pairs)
    return gt_dir, pred_dir, ids, pairs


def test_scores_equal_reference_with_pool_and_paletted_predictions(split):
    gt_dir, pred_dir, ids, pairs = split
    scores = evaluate_parsing_dirs(gt_dir, pred_dir, workers=2)
    assert_scores_match(scores, reference_scores(pairs), LIP_CLASSES)


def test_one_process_and_pool_give_identical_confusion(split):
    gt_dir, pred_dir, ids, _ = split
    pooled, ignored_pooled = confusion_from_dirs(gt_dir, pred_dir, workers=2)
    single, ignored_single = confusion_from_dirs(gt_dir, pred_dir, workers=1)
    assert (pooled == single).all() and ignored_pooled == ignored_single > 0


def test_id_list_selects_images(split, tmp_path):
    gt_dir, pred_dir, ids, pairs = split
    chosen = [5, 17, 3]
    ids_file = tmp_path / 'ids.txt'
    ids_file.write_text(''.join(f'{ids[i]}\n' for i in chosen))
    scores = evaluate_parsing_dirs(gt_dir, pred_dir, ids_file=ids_file)
    assert_scores_match(scores, reference_scores([pairs[i] for i in chosen]), LIP_CLASSES)


def test_offline_scores_identical_to_mmseg_metric(split):
    gt_dir, pred_dir, ids, pairs = split
    from lip_toolkit.parsing.label_io import read_label_map
    metric = LIPMIoUMetric()
    metric.dataset_meta = {'classes': LIP_CLASSES}
    for image_id in ids:  # the metric sees what the files hold, read back (paletted ones by index)
        gt = read_label_map(gt_dir / f'{image_id}.png', 'gt')
        pred = read_label_map(pred_dir / f'{image_id}.png', 'pred')
        metric.process({}, [{'pred_sem_seg': {'data': torch.as_tensor(pred.astype(np.int64))[None]},
                             'gt_sem_seg': {'data': torch.as_tensor(gt)[None]}, 'img_path': f'{image_id}.jpg'}])
    online = metric.evaluate(len(ids))
    offline = evaluate_parsing_dirs(gt_dir, pred_dir)
    for key in ('mIoU', 'pixel_acc', 'mean_acc'):
        assert online[key] == offline[key]
    assert all(online[f'IoU.{name}'] == offline['IoU'][name] for name in LIP_CLASSES)


def test_json_output(split, tmp_path):
    gt_dir, pred_dir, _, pairs = split
    out = tmp_path / 'deep' / 'scores.json'
    scores = evaluate_parsing_dirs(gt_dir, pred_dir, json_path=out)
    data = json.loads(out.read_text())
    assert set(data) == {'mIoU', 'pixel_acc', 'mean_acc', 'IoU'}
    assert list(data['IoU']) == list(LIP_CLASSES)
    assert data['mIoU'] == scores['mIoU']
    assert [p.name for p in out.parent.iterdir()] == ['scores.json']  # no temporary left behind


def _small_split(tmp_path, count=3):
    rng = np.random.default_rng(11)
    return _write_split(tmp_path, [random_pair(rng, 12, 10) for _ in range(count)], paletted_every=99)


def test_error_size_mismatch_names_prediction(tmp_path):
    gt_dir, pred_dir, ids = _small_split(tmp_path)
    write_grey(pred_dir / f'{ids[1]}.png', np.zeros((12, 11), np.uint8))
    with pytest.raises(LipToolkitError, match=r'size 11x12 \(WxH\) differs from the ground truth 10x12') as info:
        confusion_from_dirs(gt_dir, pred_dir)
    assert info.value.path == str(pred_dir / f'{ids[1]}.png')


def test_error_bad_prediction_value_names_file_and_pixel(tmp_path):
    gt_dir, pred_dir, ids = _small_split(tmp_path)
    bad = np.zeros((12, 10), np.uint8)
    bad[4, 6] = 20
    write_paletted(pred_dir / f'{ids[2]}.png', bad)
    with pytest.raises(LipToolkitError) as info:
        confusion_from_dirs(gt_dir, pred_dir)
    assert info.value.path == str(pred_dir / f'{ids[2]}.png')
    assert info.value.location == 'pixel (x=6, y=4)' and 'label 20' in info.value.message


def test_error_255_in_prediction_is_refused(tmp_path):
    gt_dir, pred_dir, ids = _small_split(tmp_path)
    write_grey(pred_dir / f'{ids[0]}.png', np.full((12, 10), 255, np.uint8))
    with pytest.raises(LipToolkitError, match=r'label 255 is not a class id \(0-19\)'):
        confusion_from_dirs(gt_dir, pred_dir)


def test_error_bad_ground_truth_value(tmp_path):
    gt_dir, pred_dir, ids = _small_split(tmp_path)
    gt = np.zeros((12, 10), np.uint8)
    gt[11, 9] = 77
    write_grey(gt_dir / f'{ids[0]}.png', gt)
    with pytest.raises(LipToolkitError, match=r'0-19 or 255') as info:
        confusion_from_dirs(gt_dir, pred_dir)
    assert info.value.path == str(gt_dir / f'{ids[0]}.png') and info.value.location == 'pixel (x=9, y=11)'


def test_error_missing_prediction(tmp_path):
    gt_dir, pred_dir, ids = _small_split(tmp_path)
    (pred_dir / f'{ids[1]}.png').unlink()
    with pytest.raises(LipToolkitError, match='file not found') as info:
        confusion_from_dirs(gt_dir, pred_dir)
    assert info.value.path == str(pred_dir / f'{ids[1]}.png')


def test_error_first_bad_file_in_id_order_is_reported_through_the_pool(tmp_path):
    rng = np.random.default_rng(5)
    gt_dir, pred_dir, ids = _write_split(tmp_path, [random_pair(rng, 8, 8) for _ in range(300)], paletted_every=99)
    for index in (250, 140):
        write_grey(pred_dir / f'{ids[index]}.png', np.full((8, 8), 30, np.uint8))
    with pytest.raises(LipToolkitError) as info:
        confusion_from_dirs(gt_dir, pred_dir, workers=2)
    assert info.value.path == str(pred_dir / f'{ids[140]}.png')


def test_error_missing_folder(tmp_path):
    with pytest.raises(LipToolkitError, match='prediction folder not found'):
        confusion_from_dirs(tmp_path, tmp_path / 'nope')


def test_table_lists_every_class_and_the_summary():
    scores = {'mIoU': 12.345, 'pixel_acc': 80.0, 'mean_acc': 20.5, 'IoU': {n: 1.0 for n in LIP_CLASSES}}
    table = format_miou_table(scores).splitlines()
    assert len(table) == 1 + 20 + 1 + 3
    assert table[-3].split() == ['mIoU', '12.35'] and table[1].split() == ['Background', '1.00']


def _run_benchmark(argv):
    import importlib.util
    from lip_toolkit.core.paths import REPO_ROOT
    spec = importlib.util.spec_from_file_location('bench_miou', REPO_ROOT / 'benchmarks' / 'bench_miou.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules['bench_miou'] = module  # the pool pickles its functions by module name
    spec.loader.exec_module(module)
    return module.main(argv)


def test_benchmark_prints_both_figures(tmp_path, capsys):
    _run_benchmark(['--pairs', '40', '--data', str(tmp_path), '--repeat', '1'])
    out = capsys.readouterr().out
    assert 'one-process decode only' in out and 'lip-toolkit scorer' in out and 'ratio scorer/decode' in out
    assert len(list((tmp_path / 'gt').glob('*.png'))) == 40


@pytest.mark.slow
def test_benchmark_meets_speed_target(tmp_path):
    """10,000 LIP-sized pairs: the scorer on all CPUs within 0.75 x one-process decode (needs a quiet machine)."""
    assert _run_benchmark(['--pairs', '10000', '--data', str(tmp_path)]) == 0


def test_skip_policy_leaves_bad_images_out_and_lists_them(tmp_path):
    """--on-error skip: bad predictions are listed with their error, never silently dropped; the rest is scored."""
    from lip_toolkit.cli import main
    from lip_toolkit.parsing.label_io import write_label_png
    rng = np.random.default_rng(3)
    gt_dir, pred_dir, good_dir = tmp_path / 'gt', tmp_path / 'pred', tmp_path / 'good'
    for folder in (gt_dir, pred_dir, good_dir):
        folder.mkdir()
    ids = [f'img{i:03d}' for i in range(150)]  # more than one chunk, through the pool
    for image_id in ids:
        gt = rng.integers(0, 20, (12, 9), dtype=np.uint8)
        pred = rng.integers(0, 20, (12, 9), dtype=np.uint8)
        write_label_png(gt_dir / f'{image_id}.png', gt)
        write_label_png(pred_dir / f'{image_id}.png', pred)
        if image_id not in ('img007', 'img120'):
            write_label_png(good_dir / f'{image_id}.png', pred)
    (pred_dir / 'img007.png').unlink()  # missing
    write_label_png(pred_dir / 'img120.png', np.full((12, 9), 23, np.uint8))  # not a class id
    (gt_dir / 'img007.png').rename(tmp_path / 'img007.png')
    (gt_dir / 'img120.png').rename(tmp_path / 'img120.png')
    expected = evaluate_parsing_dirs(gt_dir, good_dir, workers=2)  # the good images alone
    for name in ('img007.png', 'img120.png'):
        (tmp_path / name).rename(gt_dir / name)
    with pytest.raises(LipToolkitError):
        evaluate_parsing_dirs(gt_dir, pred_dir, workers=2)
    scores = evaluate_parsing_dirs(gt_dir, pred_dir, workers=2, on_error='skip', json_path=tmp_path / 's.json')
    assert scores['num_images'] == 150 and scores['num_skipped'] == 2
    assert [entry['id'] for entry in scores['skipped']] == ['img007', 'img120']
    assert 'img120.png' in scores['skipped'][1]['error'] and 'not a class id' in scores['skipped'][1]['error']
    assert scores['mIoU'] == pytest.approx(expected['mIoU'], abs=1e-12)
    assert json.loads((tmp_path / 's.json').read_text())['num_skipped'] == 2
    assert main(['evaluate', 'parsing', '--gt-dir', str(gt_dir), '--pred-dir', str(pred_dir),
                 '--on-error', 'skip']) == 0


def test_counts_past_float32_precision_stay_exact(tmp_path):
    # OpenCV counts in float32, exact only up to 2^24 = 16,777,216. Two images of one class, 3001x3001 and 3000x3000
    # pixels: 9,006,001 + 9,000,000 = 18,006,001 (odd, so float32 cannot hold it) pixels fall in cell (2, 2).
    gts = [np.full((3001, 3001), 2, np.uint8), np.full((3000, 3000), 2, np.uint8)]
    gt_dir, pred_dir, ids = _write_split(tmp_path, [(gt, gt.copy()) for gt in gts], paletted_every=10)
    conf, ignored = confusion_from_dirs(gt_dir, pred_dir, ids, workers=1)
    assert conf[2, 2] == 3001 * 3001 + 3000 * 3000 == 18_006_001
    assert conf.sum() == conf[2, 2] and ignored == 0
