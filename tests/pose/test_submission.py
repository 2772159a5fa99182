"""Pose submission CSV: built from predictions in test_id.txt order, checked, written atomically."""
import re

import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.io import read_id_list
from lip_toolkit.core.submission import read_image_sizes
from lip_toolkit.pose.lip_csv import read_lip_pred_csv, write_lip_pred_csv
from lip_toolkit.pose.submission import check_pose_submission, format_rows, make_pose_submission


@pytest.fixture(scope='module')
def test_split(synthetic_lip):
    test_ids = synthetic_lip / 'Testing_images' / 'test_id.txt'
    ids = read_id_list(test_ids)
    sizes = read_image_sizes(synthetic_lip / 'Testing_images' / 'testing_images', ids)
    return test_ids, ids, sizes


def _valid_rows(ids, sizes):
    """Integer coordinates inside each image, one joint nan,nan."""
    rng = np.random.default_rng(1)
    coords = np.stack([rng.integers(0, [sizes[i][0], sizes[i][1]], size=(16, 2)) for i in ids]).astype(float)
    coords[0, 5] = np.nan
    return coords


def _write(path, lines):
    path.write_text(''.join(line + '\n' for line in lines))
    return path


def test_make_reorders_rounds_and_clips_into_each_image(test_split, tmp_path):
    test_ids, ids, sizes = test_split
    rng = np.random.default_rng(0)
    coords = rng.uniform(0, 100, (len(ids), 16, 2))
    coords[0, 0] = [-3.4, 2.6]           # left of the image -> 0, rounded y
    coords[1, 1] = [10_000.0, 10_000.0]  # beyond the image -> last column and row
    coords[2, 2] = [np.nan, 7.0]         # half missing -> nan,nan
    order = rng.permutation(len(ids))
    pred = tmp_path / 'pred.csv'
    write_lip_pred_csv(pred, [ids[i] + '.jpg' for i in order], coords[order], decimals=2)

    out = tmp_path / 'pose_submission.csv'
    report = make_pose_submission(pred, test_ids, out)
    assert report.ok and report.num_found == len(ids)

    lines = out.read_text().splitlines()
    assert [line.split(',')[0] for line in lines] == [f'{i}.jpg' for i in ids]
    assert all(len(line.split(',')) == 33 for line in lines)
    names, written = read_lip_pred_csv(out)
    expected = np.round(np.round(coords, 2))
    expected[0, 0] = [0, 3]
    expected[1, 1] = [sizes[ids[1]][0] - 1, sizes[ids[1]][1] - 1]
    expected[2, 2] = np.nan
    np.testing.assert_array_equal(written, expected)
    assert lines[2].split(',')[5:7] == ['nan', 'nan']


def test_make_refuses_missing_or_foreign_predictions_and_writes_nothing(test_split, tmp_path):
    test_ids, ids, sizes = test_split
    coords = _valid_rows(ids, sizes)
    out = tmp_path / 'sub.csv'
    pred = tmp_path / 'pred.csv'
    write_lip_pred_csv(pred, ids[1:], coords[1:])
    with pytest.raises(LipToolkitError, match=f"no prediction for 1 test id.*'{ids[0]}'"):
        make_pose_submission(pred, test_ids, out)
    write_lip_pred_csv(pred, ids + ['999_999'], np.concatenate([coords, coords[:1]]))
    with pytest.raises(LipToolkitError, match="1 prediction.* not in test_id.txt, e.g. '999_999.jpg'"):
        make_pose_submission(pred, test_ids, out)
    assert not out.exists()


def test_valid_file_passes_with_nan_joint_noted(test_split, tmp_path):
    test_ids, ids, sizes = test_split
    path = tmp_path / 'ok.csv'
    path.write_text(format_rows(ids, _valid_rows(ids, sizes)))
    report = check_pose_submission(path, test_ids)
    assert report.ok, report.summary()
    assert report.num_found == report.num_expected == len(ids)
    assert any('1 joint(s) written nan,nan' in note for note in report.notes)


def _rows(ids, sizes):
    return format_rows(ids, _valid_rows(ids, sizes)).splitlines()


def _set_field(row, index, value):
    fields = row.split(',')
    fields[index] = value
    return ','.join(fields)


@pytest.mark.parametrize('mutate, message', [
    (lambda rows: rows[1:], r"1 id\(s\) of test_id.txt missing"),
    (lambda rows: rows + rows[:1], r"line 9: id '.*' appears twice \(first at line 1\)"),
    (lambda rows: rows + [_set_field(rows[0], 0, '999_999.jpg')], "line 9: id '999_999' is not in"),
    (lambda rows: [_set_field(rows[0], 1, 'x7')] + rows[1:], "line 1: non-numeric value 'x7' in field 2"),
    (lambda rows: [rows[0] + ',0'] + rows[1:], 'line 1: expected 33 fields .* got 34'),
    (lambda rows: [rows[0].rsplit(',', 2)[0]] + rows[1:], 'line 1: expected 33 fields .* got 31'),
    (lambda rows: [rows[1], rows[0]] + rows[2:], 'line 1: id .* out of order'),
    (lambda rows: [_set_field(rows[0], 2, '1.5')] + rows[1:], "line 1: non-integer value '1.5' in field 3"),
    (lambda rows: [_set_field(rows[0], 1, '-1')] + rows[1:], "negative value '-1' in field 2"),
    (lambda rows: [_set_field(rows[0], 1, '100000')] + rows[1:], 'x=100000 in field 2 is outside the'),
    (lambda rows: [_set_field(rows[0], 1, 'nan')] + rows[1:], 'joint 0 has one nan coordinate'),
    (lambda rows: [_set_field(rows[0], 0, rows[0].split(',')[0][:-4])] + rows[1:],
     'first field .* should be the image name'),
    (lambda rows: rows[:2] + [''] + rows[2:], 'line 3: blank line'),
    (lambda rows: [], 'file holds no rows'),
])
def test_checker_reports_each_kind_of_problem(test_split, tmp_path, mutate, message):
    test_ids, ids, sizes = test_split
    path = _write(tmp_path / 'bad.csv', mutate(_rows(ids, sizes)))
    report = check_pose_submission(path, test_ids)
    assert not report.ok
    assert any(re.search(message, error) for error in report.errors), report.errors


def test_checker_without_images_skips_the_range_check_and_says_so(test_split, tmp_path):
    _, ids, sizes = test_split
    rows = _rows(ids, sizes)
    rows[0] = _set_field(rows[0], 1, '100000')
    path = _write(tmp_path / 'sub.csv', rows)
    report = check_pose_submission(path, ids)  # ids as a list: no test_id.txt, so no images folder beside it
    assert report.ok
    assert any('not checked against image sizes' in note for note in report.notes)


def test_checker_refuses_a_byte_order_mark_and_non_utf8(test_split, tmp_path):
    test_ids, ids, sizes = test_split
    path = tmp_path / 'bom.csv'
    path.write_bytes(b'\xef\xbb\xbf' + format_rows(ids, _valid_rows(ids, sizes)).encode())
    assert 'byte-order mark' in check_pose_submission(path, test_ids).errors[0]
    path.write_bytes(b'\xff\xfe' + format_rows(ids, _valid_rows(ids, sizes)).encode())
    assert 'not UTF-8' in check_pose_submission(path, test_ids).errors[0]


@pytest.mark.parametrize('axis', [0, 1])
def test_checker_accepts_the_last_pixel_and_refuses_one_past_it(test_split, tmp_path, axis):
    from PIL import Image
    test_ids, ids, sizes = test_split
    with Image.open(test_ids.parent / 'testing_images' / f'{ids[0]}.jpg') as image:
        extent = image.size[axis]  # width or height, read here from the file, not from the toolkit
    rows = _rows(ids, sizes)
    last = _write(tmp_path / 'last.csv', [_set_field(rows[0], 1 + axis, str(extent - 1))] + rows[1:])
    assert check_pose_submission(last, test_ids).ok  # pixel extent - 1 is the image's last
    past = _write(tmp_path / 'past.csv', [_set_field(rows[0], 1 + axis, str(extent))] + rows[1:])
    report = check_pose_submission(past, test_ids)
    assert not report.ok
    assert any(f'{"xy"[axis]}={extent} in field {2 + axis} is outside the' in error for error in report.errors)
