"""`lip-toolkit predict` wiring: arguments, outputs, one-line errors."""
import shutil

import pytest

from lip_toolkit.cli import main
from lip_toolkit.core.progress import set_quiet

PARSING_CONFIG = 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'


@pytest.fixture(scope='module')
def parsing_checkpoint(tmp_path_factory):
    import torch

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pth'
    torch.save({'state_dict': build_parsing_model(load_config(PARSING_CONFIG), None, 'cpu').state_dict()}, path)
    return path


@pytest.fixture(autouse=True)
def loud_again():
    yield
    set_quiet(False)  # --quiet sets a process-wide flag


def test_predict_a_folder(real_lip_dir, parsing_checkpoint, tmp_path, capsys):
    photos = tmp_path / 'photos'
    photos.mkdir()
    for path in sorted((real_lip_dir / 'images').glob('*.jpg'))[:2]:
        shutil.copy(path, photos / path.name)
    code = main(['--quiet', 'predict', PARSING_CONFIG, str(parsing_checkpoint), str(photos),
                 '--out', str(tmp_path / 'out'), '--device', 'cpu', '--scales', '1,1.25', '--batch-size', '1',
                 '--no-overlays'])
    assert code == 0
    captured = capsys.readouterr()
    assert 'predicted label maps for 2 image(s)' in captured.out
    assert 'image(s) ->' not in captured.err  # --quiet silences the informational line
    assert sorted(p.name for p in (tmp_path / 'out' / 'parsing').iterdir()) == sorted(p.name.replace(
        '.jpg', '.png') for p in photos.iterdir())
    assert not (tmp_path / 'out' / 'overlays').exists()


def test_usage_and_input_errors(parsing_checkpoint, tmp_path, capsys):
    assert main(['predict', PARSING_CONFIG, str(parsing_checkpoint), '--out', str(tmp_path / 'o')]) == 2
    assert 'at least one image' in capsys.readouterr().err
    assert main(['predict', PARSING_CONFIG, str(parsing_checkpoint), str(tmp_path / 'nope.jpg'),
                 '--out', str(tmp_path / 'o')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'nope.jpg' in err and err.strip().count('\n') == 0
    assert main(['predict', PARSING_CONFIG, str(parsing_checkpoint), str(tmp_path), '--scales', 'x',
                 '--out', str(tmp_path / 'o')]) == 1
    assert '--scales must be numbers' in capsys.readouterr().err


def test_ensemble_option_takes_every_argument_as_input(tmp_path, capsys):
    (tmp_path / 'ens.py').write_text("members = [dict(config='x.py', checkpoint='y.pth')]\n")
    assert main(['predict', '--ensemble', str(tmp_path / 'missing.py'), str(tmp_path), '--out',
                 str(tmp_path / 'o')]) == 1
    assert 'missing.py: ensemble file not found' in capsys.readouterr().err
    assert main(['predict', '--ensemble', str(tmp_path / 'ens.py'), str(tmp_path / 'photo.jpg'), '--out',
                 str(tmp_path / 'o')]) == 1
    assert 'photo.jpg: input not found' in capsys.readouterr().err


def test_on_error_skip_reports_the_skipped_images_at_the_end(real_lip_dir, parsing_checkpoint, tmp_path, capsys):
    photos = tmp_path / 'photos'
    photos.mkdir()
    shutil.copy(sorted((real_lip_dir / 'images').glob('*.jpg'))[0], photos / 'good.jpg')
    (photos / 'empty.jpg').write_bytes(b'')
    args = ['predict', PARSING_CONFIG, str(parsing_checkpoint), str(photos), '--out', str(tmp_path / 'out'),
            '--device', 'cpu']
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'empty.jpg' in err and err.count('\n') == 1
    assert main(['-q'] + args + ['--on-error', 'skip']) == 0
    captured = capsys.readouterr()
    assert 'predicted label maps for 1 image(s)' in captured.out
    assert captured.err.splitlines()[0] == 'skipped 1 unreadable image(s):'
    assert 'empty.jpg' in captured.err.splitlines()[1]


def test_kpt_thr_default_is_the_documented_one():
    from lip_toolkit.cli.predict import cli
    from lip_toolkit.visualization.pose import DEFAULT_KPT_THR
    assert {p.name: p.default for p in cli.params}['kpt_thr'] == DEFAULT_KPT_THR == 0.3
