"""``evaluate pose|parsing --chart``: the bar chart is written beside the printed table."""
import numpy as np

from lip_toolkit.cli import main


def _png(path):
    return path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_evaluate_pose_chart(tmp_path, capsys):
    gt = tmp_path / 'gt.csv'
    row = ['a.jpg'] + ['10', '20', '0'] * 8 + ['10', '40', '0'] + ['12', '22', '1'] * 7
    gt.write_text(','.join(row) + '\n')
    chart = tmp_path / 'chart.png'
    assert main(['evaluate', 'pose', '--gt', str(gt), '--pred', str(gt), '--chart', str(chart)]) == 0
    assert _png(chart)


def test_evaluate_parsing_chart(tmp_path):
    from lip_toolkit.parsing.label_io import write_label_png
    for folder in ('gt', 'pred'):
        (tmp_path / folder).mkdir()
        write_label_png(tmp_path / folder / 'x.png', np.arange(20, dtype=np.uint8).repeat(3).reshape(6, 10))
    chart = tmp_path / 'iou.svg'
    assert main(['evaluate', 'parsing', '--gt-dir', str(tmp_path / 'gt'), '--pred-dir', str(tmp_path / 'pred'),
                 '--chart', str(chart)]) == 0
    assert chart.read_text().lstrip().startswith('<?xml')


def test_bad_chart_suffix_is_one_line_error(tmp_path, capsys):
    gt = tmp_path / 'gt.csv'
    gt.write_text(','.join(['a.jpg'] + ['10', '20', '0'] * 8 + ['10', '40', '0'] * 8) + '\n')
    scores = tmp_path / 'scores.json'
    assert main(['evaluate', 'pose', '--gt', str(gt), '--pred', str(gt), '--json', str(scores),
                 '--chart', str(tmp_path / 'c.txt')]) == 2
    err = capsys.readouterr().err
    assert "Invalid value for '--chart'" in err and 'Traceback' not in err
    assert not scores.exists()
