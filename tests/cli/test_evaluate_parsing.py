"""``lip-toolkit evaluate parsing``: wiring, printed table, --json, one-line errors, a light --help."""
import json
import subprocess
import sys

import numpy as np

from lip_toolkit.cli import main


def _write(path, label):
    import cv2
    assert cv2.imwrite(str(path), np.asarray(label, np.uint8))


def _folders(tmp_path):
    gt_dir, pred_dir = tmp_path / 'gt', tmp_path / 'pred'
    gt_dir.mkdir()
    pred_dir.mkdir()
    gt = np.array([[0, 0, 1], [2, 2, 255]])
    pred = np.array([[0, 1, 1], [2, 0, 7]])
    for image_id in ('10_1', '11_2'):
        _write(gt_dir / f'{image_id}.png', gt)
        _write(pred_dir / f'{image_id}.png', pred)
    return gt_dir, pred_dir


def test_prints_table_and_writes_json(tmp_path, capsys):
    gt_dir, pred_dir = _folders(tmp_path)
    ids = tmp_path / 'ids.txt'
    ids.write_text('10_1\n11_2\n')
    out = tmp_path / 'scores.json'
    code = main(['evaluate', 'parsing', '--gt-dir', str(gt_dir), '--pred-dir', str(pred_dir),
                 '--ids', str(ids), '--json', str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert 'Background' in printed and 'Right-shoe' in printed and 'mIoU' in printed
    data = json.loads(out.read_text())
    # class 0: tp 1 pos 2 res 2 -> 1/3; class 1: tp 1 pos 1 res 2 -> 1/2; class 2: tp 1 pos 2 res 1 -> 1/2
    assert abs(data['mIoU'] - 100 * (1 / 3 + 0.5 + 0.5) / 20) < 1e-9
    assert abs(data['pixel_acc'] - 60.0) < 1e-9
    assert data['IoU']['Hat'] == 50.0


def test_bad_prediction_is_one_line_error(tmp_path, capsys):
    gt_dir, pred_dir = _folders(tmp_path)
    _write(pred_dir / '11_2.png', np.zeros((3, 3)))
    code = main(['evaluate', 'parsing', '--gt-dir', str(gt_dir), '--pred-dir', str(pred_dir)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.count('\n') == 0 and err.startswith(f'error: {pred_dir / "11_2.png"}') and 'differs' in err


def test_help_does_not_import_heavy_modules():
    code = ('import sys; from lip_toolkit.cli import main; main(["evaluate", "parsing", "--help"]); '
            'print("HEAVY:" + ",".join(m for m in ("torch", "mmseg", "cv2", "numpy") if m in sys.modules))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and '--gt-dir' in result.stdout
    assert result.stdout.strip().splitlines()[-1] == 'HEAVY:'


def test_offline_scoring_does_not_import_mmseg_or_torch(tmp_path):
    gt_dir, pred_dir = _folders(tmp_path)
    code = ('import sys; from lip_toolkit.parsing.evaluation import evaluate_parsing_dirs; '
            f'evaluate_parsing_dirs({str(gt_dir)!r}, {str(pred_dir)!r}); '
            'print("HEAVY:" + ",".join(m for m in ("torch", "mmseg", "mmengine") if m in sys.modules))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == 'HEAVY:'
