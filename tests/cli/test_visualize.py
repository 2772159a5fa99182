"""`lip-toolkit visualize` wiring: each subcommand writes its pictures; bad input is one line, exit 1."""
import json

import cv2
import pytest

from lip_toolkit.cli import main
from lip_toolkit.core.progress import set_quiet


@pytest.fixture(autouse=True)
def loud_again():
    yield
    set_quiet(False)  # --quiet sets a process-wide flag


def test_help_lists_the_subcommands(capsys):
    assert main(['visualize', '--help']) == 0
    out = capsys.readouterr().out
    for name in ('split', 'pose-pred', 'parsing-pred', 'curves', 'report'):
        assert name in out


def test_split_and_pose_pred(synthetic_lip, tmp_path, capsys):
    assert main(['--quiet', 'visualize', 'split', str(synthetic_lip), '--split', 'val', '--track', 'parsing',
                 '--out', str(tmp_path / 'parsing'), '--limit', '2']) == 0
    assert 'wrote 2 picture(s)' in capsys.readouterr().out
    assert len(list((tmp_path / 'parsing').glob('*.png'))) == 2
    csv = synthetic_lip / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
    assert main(['visualize', 'pose-pred', '--pred', str(csv), '--gt', str(csv), '--images',
                 str(synthetic_lip / 'TrainVal_images' / 'val_images'), '--out', str(tmp_path / 'pose'),
                 '--limit', '1']) == 0
    assert len(list((tmp_path / 'pose').glob('*.png'))) == 1


def test_parsing_pred(synthetic_lip, tmp_path, capsys):
    labels = synthetic_lip / 'TrainVal_parsing_annotations' / 'val_segmentations'
    assert main(['visualize', 'parsing-pred', '--pred-dir', str(labels), '--gt-dir', str(labels), '--images',
                 str(synthetic_lip / 'TrainVal_images' / 'val_images'), '--out', str(tmp_path / 'p'),
                 '--limit', '1', '--alpha', '0.3']) == 0
    assert len(list((tmp_path / 'p').glob('*.png'))) == 1


def test_curves_and_report(tmp_path, capsys):
    run = tmp_path / 'work' / '20250101_000000' / 'vis_data'
    run.mkdir(parents=True)
    run.joinpath('scalars.json').write_text(''.join(
        json.dumps({'lr': 0.01, 'loss': 1.0 / s, 'iter': s, 'step': s}) + '\n' for s in range(1, 6)))
    assert main(['visualize', 'curves', str(tmp_path / 'work'), '--out', str(tmp_path / 'curves.png')]) == 0
    assert cv2.imread(str(tmp_path / 'curves.png')).shape == (400, 1200, 3)
    scores = {'mIoU': 50.0, 'pixel_acc': 90.0, 'mean_acc': 60.0, 'IoU': {'Background': 90.0, 'Hat': 10.0}}
    (tmp_path / 'scores.json').write_text(json.dumps(scores))
    assert main(['visualize', 'report', str(tmp_path / 'scores.json'), '--out', str(tmp_path / 'r.png')]) == 0
    assert 'wrote parsing chart' in capsys.readouterr().out
    assert (tmp_path / 'r.png').is_file()


@pytest.mark.parametrize('args, message', [
    (['curves', '{tmp}/none', '--out', '{tmp}/c.png'], 'work dir not found'),
    (['report', '{tmp}/none.json', '--out', '{tmp}/c.png'], 'scores file not found'),
    (['split', '{tmp}', '--track', 'pose', '--out', '{tmp}/o'], 'not found'),
])
def test_errors_are_one_line(tmp_path, capsys, args, message):
    assert main(['visualize'] + [a.format(tmp=tmp_path) for a in args]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err and err.strip().count('\n') == 0
