"""One rule for outputs that exist, for every command that writes: refused unless --overwrite, then replaced whole."""
import pytest

from lip_toolkit.cli import main
from lip_toolkit.core.paths import CONFIGS_DIR

POSE_TINY = str(CONFIGS_DIR / 'demo/pose_hrnet-tiny_lip-128x96.py')


def _commands(tmp, data):
    """Each writing command with an output that exists; the inputs need not be valid: the rule comes first."""
    file_out, dir_out = str(tmp / 'exists.out'), str(tmp / 'exists_dir')
    images = str(data / 'Testing_images/testing_images')
    ids = str(data / 'Testing_images/test_id.txt')
    any_file = str(tmp / 'input.any')
    return {
        'predict': ['predict', POSE_TINY, any_file, images, '--out', dir_out],
        'evaluate --out': ['evaluate', POSE_TINY, any_file, '--out', file_out],
        'evaluate --json': ['evaluate', POSE_TINY, any_file, '--json', file_out],
        'evaluate --chart': ['evaluate', POSE_TINY, any_file, '--chart', str(tmp / 'exists.png')],
        'evaluate pose --json': ['evaluate', 'pose', '--gt', any_file, '--pred', any_file, '--json', file_out],
        'evaluate parsing --json': ['evaluate', 'parsing', '--gt-dir', str(tmp), '--pred-dir', str(tmp),
                                    '--json', file_out],
        'ensemble --out': ['ensemble', any_file, '--out', dir_out],
        'ensemble --json': ['ensemble', any_file, '--json', file_out],
        'submit pose': ['submit', 'pose', '--pred', any_file, '--test-ids', ids, '--out', file_out],
        'submit parsing': ['submit', 'parsing', '--pred-dir', str(tmp), '--test-ids', ids, '--out', file_out],
        'submit check --json': ['submit', 'check', any_file, '--test-ids', ids, '--json', file_out],
        'data synth': ['data', 'synth', dir_out],
        'convert': ['convert', 'schp', any_file, file_out],
        'visualize split': ['visualize', 'split', str(data), '--track', 'pose', '--out', dir_out],
        'visualize pose-pred': ['visualize', 'pose-pred', '--pred', any_file, '--images', images, '--out', dir_out],
        'visualize parsing-pred': ['visualize', 'parsing-pred', '--pred-dir', str(tmp), '--images', images,
                                   '--out', dir_out],
        'visualize curves': ['visualize', 'curves', str(tmp), '--out', str(tmp / 'exists.png')],
        'visualize report': ['visualize', 'report', any_file, '--out', str(tmp / 'exists.png')],
    }


@pytest.mark.parametrize('name', sorted(_commands(__import__('pathlib').Path('t'), __import__('pathlib').Path('d'))))
def test_an_output_that_exists_is_refused_without_overwrite(name, tmp_path, capsys, synthetic_lip):
    (tmp_path / 'input.any').write_text('x')
    for path in ('exists.out', 'exists.png'):
        (tmp_path / path).write_text('earlier result')
    (tmp_path / 'exists_dir').mkdir()
    (tmp_path / 'exists_dir' / 'earlier.png').write_text('earlier result')
    assert main(_commands(tmp_path, synthetic_lip)[name]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1, err
    assert 'add --overwrite to replace it' in err, err
    assert (tmp_path / 'exists.out').read_text() == 'earlier result'
    assert (tmp_path / 'exists_dir' / 'earlier.png').read_text() == 'earlier result'


def test_overwrite_replaces_a_folder_as_a_whole(tmp_path, capsys, synthetic_lip):
    out = tmp_path / 'pictures'
    command = ['visualize', 'split', str(synthetic_lip), '--track', 'pose', '--out', str(out)]
    assert main(command + ['--limit', '3']) == 0
    first = sorted(p.name for p in out.iterdir())
    assert len(first) == 3
    assert main(command + ['--limit', '2']) == 1
    assert main(command + ['--limit', '2', '--overwrite']) == 0
    assert sorted(p.name for p in out.iterdir()) == first[:2]  # nothing of the earlier run is left
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]  # no staging folder left over
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert main(['visualize', 'split', str(synthetic_lip), '--track', 'pose', '--out', str(empty),
                 '--limit', '1']) == 0  # an empty folder is free
    capsys.readouterr()
