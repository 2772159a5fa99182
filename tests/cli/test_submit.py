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


NON_ASCII_ID = 'photo é 1'


@pytest.fixture
def non_ascii_split(tmp_path):
    """A two-image test split, one id with a space and an accent, as a phone or a user would name a photo."""
    import cv2
    ids = [NON_ASCII_ID, '100034_483681']
    images = tmp_path / 'Testing_images' / 'testing_images'
    images.mkdir(parents=True)
    for item in ids:
        assert cv2.imencode('.jpg', np.zeros((30, 40, 3), np.uint8))[1].tofile(str(images / f'{item}.jpg')) is None
    test_ids = tmp_path / 'Testing_images' / 'test_id.txt'
    test_ids.write_bytes(''.join(f'{item}\n' for item in ids).encode('utf-8'))
    return test_ids, ids


def test_submit_pose_and_parsing_with_a_non_ascii_id(non_ascii_split, tmp_path, capsys):
    test_ids, ids = non_ascii_split
    pred = tmp_path / 'pred.csv'
    pred.write_bytes(''.join(f'{item}.jpg,' + ','.join(['7'] * 32) + '\n' for item in ids[::-1]).encode('utf-8'))
    for item in ids:
        write_label_png(tmp_path / 'pngs' / f'{item}.png', np.full((30, 40), 5, np.uint8))
    pose, parsing = tmp_path / 'pose.csv', tmp_path / 'parsing.zip'
    assert main(['-q', 'submit', 'pose', '--pred', str(pred), '--test-ids', str(test_ids), '--out', str(pose)]) == 0
    assert main(['-q', 'submit', 'parsing', '--pred-dir', str(tmp_path / 'pngs'), '--test-ids', str(test_ids),
                 '--out', str(parsing)]) == 0
    # The file is the bytes a UTF-8 reader (the challenge server, pandas) expects, in test_id.txt order.
    assert pose.read_bytes().decode('utf-8').splitlines()[0] == f'{NON_ASCII_ID}.jpg,' + ','.join(['7'] * 32)
    import zipfile
    with zipfile.ZipFile(parsing) as archive:
        assert sorted(archive.namelist()) == sorted(f'{item}.png' for item in ids)
    capsys.readouterr()
    assert main(['-q', 'submit', '--check', str(pose), str(parsing), '--test-ids', str(test_ids)]) == 0
    assert capsys.readouterr().out.count('of 2 ids') == 2


def test_pose_files_are_utf8_under_an_ascii_locale(non_ascii_split, tmp_path):
    """A machine whose locale is plain C/ASCII (no UTF-8 mode) still writes and submits the id: UTF-8 is chosen
    explicitly, not taken from the locale."""
    import os
    import subprocess
    import sys
    # Only contents carry the id here: under an ASCII locale Python cannot name such a file on disk at all.
    test_ids = tmp_path / 'test_id.txt'
    test_ids.write_bytes(non_ascii_split[0].read_bytes())
    script = (
        'import sys, numpy as np\n'
        'from lip_toolkit.pose.lip_csv import write_lip_pred_csv\n'
        'from lip_toolkit.cli import main\n'
        'ids = open(sys.argv[1], encoding="utf-8").read().split("\\n")[:2]\n'
        'write_lip_pred_csv(sys.argv[2], ids, np.full((2, 16, 2), 3.0))\n'
        'sys.exit(main(["-q", "submit", "pose", "--pred", sys.argv[2], "--test-ids", sys.argv[1],\n'
        '               "--out", sys.argv[3]]))\n')
    env = dict(os.environ, LC_ALL='C', LANG='C', PYTHONUTF8='0', PYTHONCOERCECLOCALE='0')
    pred, pose = tmp_path / 'pred.csv', tmp_path / 'pose.csv'
    run = subprocess.run([sys.executable, '-c', script, str(test_ids), str(pred), str(pose)], env=env,
                         capture_output=True)
    assert run.returncode == 0, run.stderr.decode('utf-8', 'replace')
    assert pred.read_bytes().decode('utf-8').startswith(f'{NON_ASCII_ID}.jpg,3,3,')
    assert pose.read_bytes().decode('utf-8').startswith(f'{NON_ASCII_ID}.jpg,3,3,')
