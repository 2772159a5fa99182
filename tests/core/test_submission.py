"""Shared submission pieces: id bookkeeping, the report, checked atomic writes, header-only image sizes."""
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.submission import (CheckReport, atomic_zip, check_ids_once, checked_atomic_write,
                                         image_size, load_test_ids, normalise_id, submission_kind)

IDS = ['1_1', '2_2', '3_3']


def _report():
    return CheckReport(path='f', kind='pose', num_expected=len(IDS))


def test_normalise_id_drops_image_suffixes():
    assert normalise_id('100034_483681.jpg') == '100034_483681'
    assert normalise_id(' 100034_483681.png\n') == '100034_483681'
    assert normalise_id('100034_483681') == '100034_483681'


def test_ids_exactly_once_passes_in_any_order_unless_order_is_required():
    report = _report()
    check_ids_once(report, [('3_3', 'line 1'), ('1_1', 'line 2'), ('2_2', 'line 3')], IDS)
    assert report.ok
    check_ids_once(report, [('3_3', 'line 1'), ('1_1', 'line 2'), ('2_2', 'line 3')], IDS, check_order=True)
    assert not report.ok and 'out of order' in report.errors[0] and 'line 1' in report.errors[0]


@pytest.mark.parametrize('found, expected_text', [
    ([('1_1', 'line 1'), ('2_2', 'line 2')], "1 id(s) of test_id.txt missing: '3_3'"),
    ([('1_1', 'line 1'), ('2_2', 'line 2'), ('3_3', 'line 3'), ('2_2', 'line 4')],
     "line 4: id '2_2' appears twice (first at line 2)"),
    ([('1_1', 'line 1'), ('2_2', 'line 2'), ('3_3', 'line 3'), ('9_9', 'line 4')],
     "line 4: id '9_9' is not in test_id.txt"),
])
def test_ids_missing_repeated_or_unknown_are_reported(found, expected_text):
    report = _report()
    check_ids_once(report, found, IDS)
    assert report.errors == [expected_text]


def test_report_lists_at_most_twenty_problems_and_counts_the_rest():
    report = _report()
    for index in range(25):
        report.add_error(f'line {index}: bad')
    assert report.num_errors == 25 and len(report.errors) == 20
    assert '... and 5 more' in report.summary()
    with pytest.raises(LipToolkitError, match=r'line 0: bad \(and 24 more problem'):
        report.raise_if_failed()


def test_load_test_ids_from_file_or_sequence(tmp_path):
    path = tmp_path / 'test_id.txt'
    path.write_text('1_1\n2_2.jpg\n\n3_3\n')
    assert load_test_ids(path) == IDS
    assert load_test_ids(['1_1.jpg', '2_2']) == ['1_1', '2_2']


def test_checked_write_that_fails_its_check_leaves_the_old_file(tmp_path):
    out = tmp_path / 'sub.csv'
    out.write_text('old')

    def failing(handle):
        report = CheckReport(path='', kind='pose')
        assert handle.read() == b'new content'  # the check sees exactly what was written
        report.add_error('line 1: wrong')
        return report

    with pytest.raises(LipToolkitError, match='line 1: wrong'):
        with checked_atomic_write(out, failing) as handle:
            handle.write(b'new content')
    assert out.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['sub.csv']  # no temporary file left behind


def test_atomic_zip_interrupted_leaves_no_file(tmp_path):
    out = tmp_path / 'sub.zip'
    with pytest.raises(RuntimeError):
        with atomic_zip(out) as archive:
            archive.writestr('a.png', b'x')
            raise RuntimeError('crash half-way')
    assert list(tmp_path.iterdir()) == []


def test_image_size_reads_the_header_and_honours_exif_rotation(tmp_path):
    from PIL import Image
    image = Image.new('RGB', (30, 20))
    image.save(tmp_path / 'plain.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: readers that honour EXIF see 20 x 30
    image.save(tmp_path / 'rotated.jpg', exif=exif)
    assert image_size(tmp_path / 'plain.jpg') == (30, 20)
    assert image_size(tmp_path / 'rotated.jpg') == (20, 30)
    from lip_toolkit.core.image_io import read_image_bgr
    assert read_image_bgr(tmp_path / 'rotated.jpg').shape[:2] == (30, 20)  # (H, W) agrees with the reader
    with pytest.raises(LipToolkitError, match='test image not found'):
        image_size(tmp_path / 'missing.jpg')


def test_submission_kind_by_suffix_then_signature(tmp_path):
    assert submission_kind('a.csv') == 'pose' and submission_kind('a.zip') == 'parsing'
    (tmp_path / 'noext').write_bytes(b'PK\x03\x04rest')
    assert submission_kind(tmp_path / 'noext') == 'parsing'
