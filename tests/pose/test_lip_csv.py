"""Tests for lip_toolkit/pose/lip_csv.py: reading LIP ground truth and predictions, writing submissions."""
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.pose.lip_csv import (image_key, read_lip_gt_csv, read_lip_pred_csv, read_lip_pred_rows,
                                      write_lip_pred_csv)

GT_ROW = ('a.jpg,' + ','.join(['1,2,0'] * 15) + ',nan,nan,nan')
PRED_ROW = 'a.jpg,' + ','.join(['3,4'] * 16)


def write(tmp_path, text, name='file.csv'):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_real_val_csv_loads(real_lip_dir):
    names, gt = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    assert len(names) == 10000 and gt.shape == (10000, 16, 3)
    assert names[0] == '100034_483681.jpg'
    assert np.isnan(gt[0, 2]).all() and gt[0, 0].tolist() == [153, 351, 0]
    # lip-facts.md section 1: v=0 132,528; v=1 11,920; nan 15,552 joints.
    v = gt[..., 2]
    assert (v == 0).sum() == 132528 and (v == 1).sum() == 11920 and np.isnan(v).sum() == 15552


def test_gt_and_pred_rows(tmp_path):
    names, gt = read_lip_gt_csv(write(tmp_path, GT_ROW + '\n\nb.jpg,' + ','.join(['5,6,1'] * 16) + '\n'))
    assert names == ['a.jpg', 'b.jpg']
    assert gt[0, 0].tolist() == [1, 2, 0] and np.isnan(gt[0, 15]).all() and gt[1, 3].tolist() == [5, 6, 1]
    names, pred = read_lip_pred_csv(write(tmp_path, PRED_ROW + '\n', 'p.csv'))
    assert pred.shape == (1, 16, 2) and pred[0, 7].tolist() == [3, 4]
    names, pred = read_lip_pred_csv(write(tmp_path, GT_ROW + '\n', 'p3.csv'))  # 3 values a joint accepted
    assert pred.shape == (1, 16, 2) and pred[0, 0].tolist() == [1, 2] and np.isnan(pred[0, 15]).all()


@pytest.mark.parametrize('text, reader, message, line', [
    ('', read_lip_gt_csv, 'empty', None),
    ('\n\n', read_lip_pred_csv, 'empty', None),
    (GT_ROW + '\n' + GT_ROW.replace('a.jpg', 'b.jpg') + ',7\n', read_lip_gt_csv, 'expected 49 fields', 2),
    (PRED_ROW + '\n', read_lip_gt_csv, 'expected 49', 1),
    ('a.jpg,1,2\n', read_lip_pred_csv, 'expected 33 or 49', 1),
    (PRED_ROW + '\n' + PRED_ROW.replace('a.jpg', 'b.jpg').replace('3,4', 'x,4', 1) + '\n', read_lip_pred_csv,
     "non-numeric value 'x' in field 2", 2),
    (PRED_ROW + '\nb.jpg,' + ','.join(['3,4'] * 15) + ',3,-4\n', read_lip_pred_csv, "negative value '-4'", 2),
    (GT_ROW.replace('1,2,0', '1,inf,0', 1) + '\n', read_lip_gt_csv, 'infinite', 1),
    (PRED_ROW + '\n' + PRED_ROW + '\n', read_lip_pred_csv, "'a.jpg' appears twice (first on line 1)", 2),
    (PRED_ROW + '\n' + PRED_ROW.replace('a.jpg', 'a') + '\n', read_lip_pred_csv, 'appears twice', 2),
    (PRED_ROW.replace('a.jpg', '') + '\n', read_lip_pred_csv, 'empty image name', 1),
])
def test_bad_files_name_file_and_line(tmp_path, text, reader, message, line):
    path = write(tmp_path, text)
    with pytest.raises(LipToolkitError) as info:
        reader(path)
    assert message in info.value.message
    assert info.value.path == str(path)
    assert info.value.location == (None if line is None else f'line {line}')
    assert '\n' not in info.value.one_line()


def test_missing_file(tmp_path):
    with pytest.raises(LipToolkitError, match='not found'):
        read_lip_gt_csv(tmp_path / 'nope.csv')


def test_write_round_trip_clips_rounds_and_names(tmp_path):
    coords = np.arange(64, dtype=float).reshape(2, 16, 2) + 0.4
    coords[0, 3] = np.nan
    coords[1, 0] = (-2.0, 5.6)
    path = write_lip_pred_csv(tmp_path / 'out' / 'pred.csv', ['x.jpg', 'y'], coords)
    names, back, lines = read_lip_pred_rows(path)
    assert names == ['x.jpg', 'y.jpg'] and lines == [1, 2]
    assert np.isnan(back[0, 3]).all() and back[1, 0].tolist() == [0, 6] and back[0, 1].tolist() == [2, 3]
    first = path.read_text().splitlines()[0].split(',')
    assert len(first) == 33 and first[1:3] == ['0', '1']
    assert not list((tmp_path / 'out').glob('*.partial'))
    with pytest.raises(ValueError):
        write_lip_pred_csv(tmp_path / 'bad.csv', ['x'], np.zeros((1, 15, 2)))


def test_image_key():
    assert image_key('1_2.jpg') == image_key('1_2') == '1_2'
