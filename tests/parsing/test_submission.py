"""Parsing submission zip: built from predicted PNGs at each test image's size, checked, written atomically."""
import io
import re
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.io import read_id_list
from lip_toolkit.core.submission import read_image_sizes
from lip_toolkit.parsing.label_io import write_label_png
from lip_toolkit.parsing.submission import check_parsing_submission, encode_label_png, make_parsing_submission


@pytest.fixture(scope='module')
def test_split(synthetic_lip):
    test_ids = synthetic_lip / 'Testing_images' / 'test_id.txt'
    ids = read_id_list(test_ids)
    sizes = read_image_sizes(synthetic_lip / 'Testing_images' / 'testing_images', ids)
    return test_ids, ids, sizes


@pytest.fixture(scope='module')
def labels(test_split):
    _, ids, sizes = test_split
    rng = np.random.default_rng(0)
    return {i: rng.integers(0, 20, (sizes[i][1], sizes[i][0])).astype(np.uint8) for i in ids}


@pytest.fixture(scope='module')
def pred_dir(labels, tmp_path_factory):
    folder = tmp_path_factory.mktemp('pred_pngs')
    for index, (item, label) in enumerate(labels.items()):
        write_label_png(folder / f'{item}.png', label, paletted=index % 2 == 0)  # both kinds of input
    write_label_png(folder / '999_999.png', np.zeros((5, 5), np.uint8))  # not a test id: left out
    return folder


def _zip_labels(path):
    with zipfile.ZipFile(path) as archive:
        out = {}
        for name in archive.namelist():
            with Image.open(io.BytesIO(archive.read(name))) as image:
                out[name] = (image.mode, np.asarray(image))
        return out


def test_make_writes_every_test_id_as_grey_png_with_the_predicted_ids(test_split, labels, pred_dir, tmp_path):
    test_ids, ids, _ = test_split
    out = tmp_path / 'parsing_submission.zip'
    report = make_parsing_submission(pred_dir, test_ids, out)
    assert report.ok and report.num_found == len(ids)
    entries = _zip_labels(out)
    assert list(entries) == [f'{i}.png' for i in ids]
    for item in ids:
        mode, label = entries[f'{item}.png']
        assert mode == 'L'
        np.testing.assert_array_equal(label, labels[item])


def test_make_paletted_in_a_folder(test_split, labels, pred_dir, tmp_path):
    test_ids, ids, _ = test_split
    out = tmp_path / 'sub.zip'
    make_parsing_submission(pred_dir, test_ids, out, paletted=True, folder='global_parsing')
    entries = _zip_labels(out)
    assert list(entries) == [f'global_parsing/{i}.png' for i in ids]
    mode, label = entries[f'global_parsing/{ids[0]}.png']
    assert mode == 'P'
    np.testing.assert_array_equal(label, labels[ids[0]])
    assert check_parsing_submission(out, test_ids).ok


@pytest.mark.parametrize('problem, message', [
    ('missing', 'no prediction for 1 test id'),
    ('size', r'size \d+x\d+ \(WxH\) differs'),
    ('value', 'label 20 is not a class id'),
])
def test_make_refuses_bad_predictions_and_writes_nothing(test_split, labels, tmp_path, problem, message):
    test_ids, ids, _ = test_split
    folder = tmp_path / 'pngs'
    for item, label in labels.items():
        write_label_png(folder / f'{item}.png', label, paletted=False)
    if problem == 'missing':
        (folder / f'{ids[3]}.png').unlink()
    elif problem == 'size':
        write_label_png(folder / f'{ids[3]}.png', labels[ids[3]][:-1], paletted=False)
    else:
        bad = labels[ids[3]].copy()
        bad[2, 1] = 20
        write_label_png(folder / f'{ids[3]}.png', bad, paletted=False)
    out = tmp_path / 'sub.zip'
    with pytest.raises(LipToolkitError, match=message):
        make_parsing_submission(folder, test_ids, out)
    assert not out.exists()


def test_make_needs_the_test_images(test_split, pred_dir, tmp_path):
    _, ids, _ = test_split
    with pytest.raises(LipToolkitError, match='give --images'):
        make_parsing_submission(pred_dir, ids, tmp_path / 'sub.zip')


def _build_zip(path, entries):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # zipfile warns about the duplicate name some cases write on purpose
        with zipfile.ZipFile(path, 'w') as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return path


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format='PNG')  # uint8 HxWx3 -> RGB, uint16 -> 16-bit grey
    return buffer.getvalue()


def _entries(ids, labels):
    return [(f'{i}.png', encode_label_png(labels[i])) for i in ids]


def _with_value(label, value):
    label = label.copy()
    label[4, 3] = value
    return encode_label_png(label)


@pytest.mark.parametrize('mutate, message', [
    (lambda e, ids, lab: e[1:], r'1 id\(s\) of test_id.txt missing'),
    (lambda e, ids, lab: e + e[:1], r"id '.*' appears twice \(first at"),
    (lambda e, ids, lab: e + [('999_999.png', e[0][1])], "999_999.png: id '999_999' is not in test_id.txt"),
    (lambda e, ids, lab: [(e[0][0], encode_label_png(lab[ids[0]][:-2]))] + e[1:],
     r'size \d+x\d+ differs from its test image'),
    (lambda e, ids, lab: [(e[0][0], _with_value(lab[ids[0]], 20))] + e[1:],
     r'value 20 at pixel \(x=3, y=4\) is not a class id 0-19'),
    (lambda e, ids, lab: [(e[0][0], _with_value(lab[ids[0]], 255))] + e[1:], 'value 255 at pixel'),
    (lambda e, ids, lab: [(e[0][0], _png(np.repeat(lab[ids[0]][:, :, None], 3, axis=2)))] + e[1:],
     r'RGB PNG; write 8-bit greyscale'),
    (lambda e, ids, lab: [(e[0][0], _png(lab[ids[0]].astype(np.uint16)))] + e[1:], '16-bit greyscale PNG'),
    (lambda e, ids, lab: [(e[0][0], b'not a png')] + e[1:], 'not a PNG file'),
    (lambda e, ids, lab: e + [('readme.txt', b'hello')], 'readme.txt: unexpected entry'),
    (lambda e, ids, lab: [('a/' + e[0][0], e[0][1])] + e[1:], 'PNGs spread over several folders'),
])
def test_checker_reports_each_kind_of_problem(test_split, labels, tmp_path, mutate, message):
    test_ids, ids, _ = test_split
    path = _build_zip(tmp_path / 'bad.zip', mutate(_entries(ids, labels), ids, labels))
    report = check_parsing_submission(path, test_ids)
    assert not report.ok
    assert any(re.search(message, error) for error in report.errors), report.errors


def test_checker_passes_a_valid_zip_and_fails_it_truncated(test_split, labels, tmp_path):
    test_ids, ids, _ = test_split
    path = _build_zip(tmp_path / 'ok.zip', _entries(ids, labels))
    report = check_parsing_submission(path, test_ids)
    assert report.ok, report.summary()
    truncated = tmp_path / 'truncated.zip'
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    report = check_parsing_submission(truncated, test_ids)
    assert not report.ok and 'not a readable zip file' in report.errors[0]


def test_checker_finds_a_damaged_entry(test_split, labels, tmp_path):
    test_ids, ids, _ = test_split
    path = _build_zip(tmp_path / 'ok.zip', _entries(ids, labels))
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside the first entry's data: its CRC no longer matches
    path.write_bytes(bytes(data))
    report = check_parsing_submission(path, test_ids)
    assert not report.ok and any('damaged entry' in e or 'not a PNG' in e for e in report.errors)
