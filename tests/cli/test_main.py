"""The CLI's wiring: help, version, unknown commands, one-line errors, and the import budget of --help."""
import json
import subprocess
import sys
import time

import pytest

from lip_toolkit.cli import cli, main
from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.version import __version__

HEAVY_MODULES = ('torch', 'mmpose', 'mmseg', 'mmengine', 'mmcv', 'mmdet', 'cv2', 'matplotlib')


def _commands():
    ctx = cli.make_context('lip-toolkit', ['--help'], resilient_parsing=True)
    return cli.list_commands(ctx)


def test_help_lists_the_main_commands(capsys):
    assert main(['--help']) == 0
    out = capsys.readouterr().out
    for command in ('train', 'evaluate', 'data'):
        assert command in out


def test_version(capsys):
    assert main(['--version']) == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_command_suggests_close_names(capsys):
    assert main(['trian']) == 2
    err = capsys.readouterr().err
    assert "No such command 'trian'" in err and "'train'" in err


def test_user_error_is_one_line_without_traceback(capsys, tmp_path):
    assert main(['train', str(tmp_path / 'missing.py')]) == 1
    err = capsys.readouterr().err
    assert err.strip().count('\n') == 0
    assert err.startswith('error: ') and 'missing.py' in err and 'Traceback' not in err


def test_debug_shows_the_traceback(capsys, tmp_path):
    assert main(['--debug', 'train', str(tmp_path / 'missing.py')]) == 1
    assert 'Traceback' in capsys.readouterr().err


def test_error_message_names_file_and_location():
    error = LipToolkitError('expected 49 fields, got 3', 'a.csv', 'line 7')
    assert error.one_line() == 'a.csv (line 7): expected 49 fields, got 3'


_PROBE = '''
import json, sys, time
start = time.perf_counter()
from lip_toolkit.cli import main
args = sys.argv[1:]
try:
    code = main(args)
except SystemExit as exc:
    code = exc.code
print(json.dumps({"seconds": time.perf_counter() - start, "code": code,
                  "heavy": sorted(m for m in %r if m in sys.modules)}))
''' % (HEAVY_MODULES,)


def _probe(args):
    done = subprocess.run([sys.executable, '-c', _PROBE, *args], capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('command', [None] + _commands())
def test_help_imports_no_heavy_library(command):
    """``--help`` of the tool and of each command imports neither torch nor the OpenMMLab stack."""
    result = _probe(['--help'] if command is None else [command, '--help'])
    assert result['code'] == 0
    assert result['heavy'] == [], f'--help of {command or "lip-toolkit"} imported {result["heavy"]}'


def test_help_is_fast():
    """The import budget measured end to end: well under 0.5 s on an idle machine (2x allowance for load)."""
    best = min(_probe(['--help'])['seconds'] for _ in range(3))
    assert best < 1.0, f'lip-toolkit --help took {best:.2f} s'
