"""``lip-toolkit data synth``: wiring, the one-line summary, and one-line errors."""
import re

import pytest

from lip_toolkit.cli import main
from lip_toolkit.core.io import read_id_list


def test_data_group_lists_synth(capsys):
    assert main(['data', '--help']) == 0
    assert 'synth' in capsys.readouterr().out


def test_synth_help_has_examples(capsys):
    assert main(['data', 'synth', '--help']) == 0
    out = capsys.readouterr().out
    assert 'Examples:' in out and 'lip-toolkit data synth' in out and '--seed' in out


def test_synth_writes_the_tree_and_prints_one_summary_line(tmp_path, capsys):
    out = tmp_path / 'lip'
    assert main(['--quiet', 'data', 'synth', str(out), '--train', '3', '--val', '2', '--test', '1',
                 '--seed', '4']) == 0
    printed = capsys.readouterr().out.strip()
    assert '\n' not in printed
    assert re.fullmatch(rf'synthetic LIP: 3 train / 2 val / 1 test images -> {re.escape(str(out))} '
                        r'\(\d+\.\d s\)', printed)
    assert len(read_id_list(out / 'TrainVal_images' / 'train_id.txt')) == 3
    assert len(read_id_list(out / 'TrainVal_images' / 'val_id.txt')) == 2
    assert len(read_id_list(out / 'Testing_images' / 'test_id.txt')) == 1
    assert len((out / 'TrainVal_pose_annotations' / 'lip_val_set.csv').read_text().splitlines()) == 2


def test_synth_refuses_a_non_empty_folder_then_overwrites_on_request(tmp_path, capsys):
    out = tmp_path / 'lip'
    args = ['-q', 'data', 'synth', str(out), '--train', '1', '--val', '1', '--test', '1']
    assert main(args) == 0
    assert main(args + ['--seed', '2']) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and str(out) in err and '--overwrite' in err and err.count('\n') == 1
    assert main(args + ['--seed', '2', '--overwrite']) == 0
    (out / 'old.txt').write_text('x')
    assert main(args + ['--overwrite']) == 1
    assert "'old.txt'" in capsys.readouterr().err and (out / 'old.txt').exists()


@pytest.mark.parametrize('args, message', [
    (['--train', '-2'], '--train must be a non-negative integer'),
    (['--val', '-1'], '--val must be a non-negative integer'),
    (['--seed', '-5'], '--seed must be a non-negative integer'),
    (['--workers', '0'], '--workers must be at least 1'),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, args, message):
    assert main(['data', 'synth', str(tmp_path / 'lip'), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and message in err and err.count('\n') == 1 and 'Traceback' not in err
    assert not (tmp_path / 'lip').exists()


def test_unwritable_output_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    assert main(['data', 'synth', str(blocker / 'lip'), '--train', '1']) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and str(blocker) in err and err.count('\n') == 1


def test_non_integer_count_is_a_usage_error(tmp_path, capsys):
    assert main(['data', 'synth', str(tmp_path / 'lip'), '--train', 'many']) == 2
    assert 'many' in capsys.readouterr().err
