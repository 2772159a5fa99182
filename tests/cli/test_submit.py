"""``lip-toolkit submit``: wiring of pose / parsing / --check, exit codes, one-line errors, no partial files."""
import numpy as np
import pytest

from lip_toolkit.cli import main
from lip_toolkit.core.io import read_id_list
from lip_toolkit.core.submission import read_image_sizes
from lip_toolkit.parsing.label_io import write_label_png
from lip_toolkit.pose.lip_csv import write_lip_pred_csv


@pytest.fixture(scope='module')
def predictions(synthetic_lip, tmp_path_factory):
    """Test-split predictions as evaluate/ensemble write them: a pose CSV and a folder of label PNGs."""
    folder = tmp_path_factory.mktemp('cli_submit')
    test_ids = synthetic_lip / 'Testing_images' / 'test_id.txt'
    ids = read_id_list(test_ids)
    sizes = read_image_sizes(synthetic_lip / 'Testing_images' / 'testing_images', ids)
    rng = np.random.default_rng(0)
    write_lip_pred_csv(folder / 'pred.csv', ids[::-1], rng.uniform(0, 100, (len(ids), 16, 2)))
    for item in ids:
        write_label_png(folder / 'pngs' / f'{item}.png', rng.integers(0, 20, sizes[item][::-1]).astype(np.uint8))
    return folder, test_ids


def test_submit_pose_and_parsing_then_check_both(predictions, tmp_path, capsys):
    folder, test_ids = predictions
    pose, parsing = tmp_path / 'pose.csv', tmp_path / 'parsing.zip'
    assert main(['-q', 'submit', 'pose', '--pred', str(folder / 'pred.csv'), '--test-ids', str(test_ids),
                 '--out', str(pose)]) == 0
    assert main(['-q', 'submit', 'parsing', '--pred-dir', str(folder / 'pngs'), '--test-ids', str(test_ids),
                 '--images', str(test_ids.parent / 'testing_images'), '--out', str(parsing)]) == 0
    capsys.readouterr()
    assert main(['-q', 'submit', '--check', str(pose), str(parsing), '--test-ids', str(test_ids),
                 '--json', str(tmp_path / 'report.json')]) == 0
    out = capsys.readouterr().out
    assert f'OK {pose}: pose submission, 8 of 8 ids' in out
    assert f'OK {parsing}: parsing submission, 8 of 8 ids' in out
    assert '"ok": true' in (tmp_path / 'report.json').read_text()


def test_check_exits_1_and_lists_the_problems(predictions, tmp_path, capsys):
    folder, test_ids = predictions
    bad = tmp_path / 'bad.csv'
    bad.write_text((folder / 'pred.csv').read_text().splitlines()[0] + '\n')
    assert main(['-q', 'submit', 'check', str(bad), '--test-ids', str(test_ids)]) == 1
    out = capsys.readouterr().out
    assert f'FAILED {bad}' in out and 'missing' in out


def test_failed_submit_is_one_line_and_leaves_no_file(predictions, tmp_path, capsys):
    folder, test_ids = predictions
    out = tmp_path / 'pose.csv'
    short = tmp_path / 'short.csv'
    short.write_text(''.join((folder / 'pred.csv').read_text().splitlines(keepends=True)[1:]))
    assert main(['-q', 'submit', 'pose', '--pred', str(short), '--test-ids', str(test_ids),
                 '--out', str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'no prediction for 1 test id' in err and err.count('\n') == 1
    assert not out.exists()


def test_missing_required_option_is_a_usage_error(capsys):
    assert main(['submit', 'pose', '--pred', 'x.csv']) == 2
    assert "Missing option '--test-ids'" in capsys.readouterr().err
