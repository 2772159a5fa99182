"""Tests for lip_toolkit/cli/_evaluate_pose.py: `lip-toolkit evaluate pose` wiring, output and errors."""
import json

import numpy as np

from lip_toolkit.cli import main
from lip_toolkit.pose.lip_csv import write_lip_pred_csv


def make_files(tmp_path):
    gt = np.full((2, 16, 3), np.nan)
    gt[:, 8] = (10, 10, 0)
    gt[:, 9] = (10, 30, 0)
    gt[:, 12] = (30, 40, 1)
    gt[:, 13] = (50, 40, 0)
    rows = [f'{n}.jpg,' + ','.join('nan' if np.isnan(v) else str(int(v)) for v in gt[n].ravel())
            for n in range(2)]
    (tmp_path / 'gt.csv').write_text('\n'.join(rows) + '\n')
    pred = gt[..., :2].copy()
    pred[1, 12] = (60, 40)  # 30 px off with a 20 px head: wrong
    write_lip_pred_csv(tmp_path / 'pred.csv', ['1.jpg', '0.jpg'], pred[[1, 0]])
    return tmp_path / 'gt.csv', tmp_path / 'pred.csv'


def test_prints_table_and_writes_json(tmp_path, capsys):
    gt_csv, pred_csv = make_files(tmp_path)
    code = main(['evaluate', 'pose', '--gt', str(gt_csv), '--pred', str(pred_csv), '--json',
                 str(tmp_path / 's.json')])
    out = capsys.readouterr().out
    assert code == 0
    assert 'Head   Sho.' in out
    assert out.splitlines()[2].split()[:3] == ['100.0', '75.0', 'n/a']
    data = json.loads((tmp_path / 's.json').read_text())
    assert data['Shoulder'] == 75.0 and data['Mean'] == 87.5 and data['per_joint'][12] == 50.0


def test_missing_prediction_is_one_line_error_unless_allowed(tmp_path, capsys):
    gt_csv, _ = make_files(tmp_path)
    pred_csv = write_lip_pred_csv(tmp_path / 'one.csv', ['0.jpg'], np.full((1, 16, 2), 10.0))
    code = main(['evaluate', 'pose', '--gt', str(gt_csv), '--pred', str(pred_csv), '--json',
                 str(tmp_path / 's.json')])
    err = capsys.readouterr().err
    assert code == 1 and err.count('\n') == 1 and err.startswith(f'error: {pred_csv}: no prediction for 1')
    assert 'Traceback' not in err and not (tmp_path / 's.json').exists()
    assert main(['evaluate', 'pose', '--gt', str(gt_csv), '--pred', str(pred_csv), '--allow-missing']) == 0


def test_bad_file_names_the_line(tmp_path, capsys):
    gt_csv, _ = make_files(tmp_path)
    bad = tmp_path / 'bad.csv'
    bad.write_text('0.jpg,' + ','.join(['1'] * 32) + '\n1.jpg,' + ','.join(['1'] * 31) + ',abc\n')
    assert main(['evaluate', 'pose', '--gt', str(gt_csv), '--pred', str(bad)]) == 1
    assert capsys.readouterr().err == f"error: {bad} (line 2): non-numeric value 'abc' in field 33\n"


def test_help_lists_examples(capsys):
    assert main(['evaluate', 'pose', '--help']) == 0
    out = capsys.readouterr().out
    assert '--allow-missing' in out and 'lip-toolkit evaluate pose --gt' in out
