"""scripts/install.sh and constraints.txt: every pip call honours the one set of constraints, and the pins stop the
setuptools / numpy drift that broke fresh installs.

The script runs for real (bash), with a stand-in Python that records each call instead of installing: seconds,
no network, and it covers the from-source mmcv path that CI (which finds a prebuilt wheel) never takes.
"""
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / 'scripts' / 'install.sh'
CONSTRAINTS = REPO / 'constraints.txt'

FAKE_PYTHON = textwrap.dedent('''\
    #!{python}
    """Records what install.sh asks of Python and pip; installs nothing."""
    import json, os, shutil, sys, tarfile, io, pathlib
    args = sys.argv[1:]
    state = pathlib.Path(os.environ['FAKE_STATE'])
    def record(kind, extra=None):
        constraint = os.environ.get('PIP_CONSTRAINT')
        text = pathlib.Path(constraint).read_text() if constraint and os.path.isfile(constraint) else None
        entry = dict(kind=kind, args=args, cwd=os.getcwd(), constraint=constraint, constraint_text=text,
                     cuda_visible=os.environ.get('CUDA_VISIBLE_DEVICES'))
        entry.update(extra or {{}})
        with open(os.environ['FAKE_LOG'], 'a') as f:
            f.write(json.dumps(entry) + '\\n')
    if args[:2] == ['-m', 'venv']:
        record('venv')
        target = pathlib.Path(args[2]) / 'bin'
        target.mkdir(parents=True)
        shutil.copy(__file__, target / 'python')
        sys.exit(0)
    if args[:2] == ['-m', 'pip']:
        pip = args[2:]
        setup = pathlib.Path('setup.py')
        record('pip', dict(setup_py=setup.read_text() if setup.exists() else None))
        if 'download' in pip:
            folder = pathlib.Path(pip[pip.index('-d') + 1])
            data = b"extra_compile_args = ['-std=c++17']\\n"
            with tarfile.open(folder / 'mmcv-2.1.0.tar.gz', 'w:gz') as tar:
                info = tarfile.TarInfo('mmcv-2.1.0/setup.py')
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        elif 'list' in pip:
            print(os.environ.get('FAKE_FREEZE', ''))
        elif 'install' in pip:
            if '--only-binary=mmcv' in pip and os.environ.get('FAKE_NO_WHEEL'):
                sys.exit(1)
            if 'mmcv' in pip or pip[-1] == '.':
                (state / 'mmcv').touch()
        sys.exit(0)
    if args[:2] == ['-m', 'lip_toolkit']:
        record('doctor')
        sys.exit(0)
    if args and args[0] == '-c':
        code = args[1]
        if 'sys.version' in code:
            print('3.11.7')
        elif 'pkg_resources' in code:
            sys.exit(1 if os.environ.get('FAKE_NO_PKG_RESOURCES') else 0)
        elif 'mmcv' in code:
            sys.exit(0 if (state / 'mmcv').exists() else 1)
        sys.exit(0)
    sys.exit(0)
''')


def run_install(tmp_path, *script_args, fake_source=FAKE_PYTHON, mmcv_installed=False, **fake_env):
    fake = tmp_path / 'fake-python'
    fake.write_text(fake_source.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    (tmp_path / 'state').mkdir()
    if mmcv_installed:
        (tmp_path / 'state' / 'mmcv').touch()
    log = tmp_path / 'calls.jsonl'
    env = {k: v for k, v in os.environ.items() if not k.startswith('PIP_')}
    env.update(PYTHON=str(fake), LIP_TOOLKIT_VENV=str(tmp_path / 'venv'), FAKE_LOG=str(log),
               FAKE_STATE=str(tmp_path / 'state'), **fake_env)
    result = subprocess.run(['bash', str(SCRIPT), *script_args], env=env, capture_output=True, text=True,
                            timeout=120)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def pip_installs(calls):
    return [c for c in calls if c['kind'] == 'pip' and 'install' in c['args']]


def requirement_args(call):
    """The requirement words of a recorded ``pip install`` (options and their values left out)."""
    words = call['args'][call['args'].index('install') + 1:]
    return [w for w in words if not w.startswith('-') and w != '.' and not os.path.isabs(w)]


def test_fresh_install_from_source_every_pip_call_honours_the_constraints(tmp_path):
    result, calls = run_install(tmp_path, FAKE_NO_WHEEL='1')
    assert result.returncode == 0, result.stderr
    pip_calls = [c for c in calls if c['kind'] == 'pip']
    assert len(pip_calls) >= 9
    for call in pip_calls:
        assert call['constraint'] == str(CONSTRAINTS), call['args']
        assert '--isolated' not in call['args'], 'pip --isolated ignores PIP_CONSTRAINT'
    # The from-source path ran: downloaded, patched to C++20, built against the installed torch, CPU ops only.
    assert any('download' in c['args'] for c in pip_calls)
    build = [c for c in pip_installs(calls) if c['args'][-1] == '.' and c['setup_py'] is not None]
    assert len(build) == 1
    assert '-std=c++20' in build[0]['setup_py'] and '-std=c++17' not in build[0]['setup_py']
    assert '--no-build-isolation' in build[0]['args']
    assert build[0]['cuda_visible'] == ''
    # Versions come from constraints.txt alone: no step names a version of its own that could disagree.
    for call in pip_installs(calls):
        for word in requirement_args(call):
            assert not Requirement(word).specifier, f'{word}: versions belong in constraints.txt'
    assert calls[-1]['kind'] == 'doctor', 'the install ends by checking the environment'


def test_install_fails_when_the_doctor_finds_a_problem(tmp_path):
    doctor_finds_a_problem = FAKE_PYTHON.replace("record('doctor')\n    sys.exit(0)", "record('doctor')\n    sys.exit(1)")
    assert doctor_finds_a_problem != FAKE_PYTHON
    result, calls = run_install(tmp_path, fake_source=doctor_finds_a_problem)
    assert result.returncode == 1
    assert calls[-1]['kind'] == 'doctor'
    assert 'FAILED: the environment has the problems listed above' in result.stderr


def test_current_env_leaves_the_users_torch_mmcv_numpy_opencv_alone(tmp_path):
    freeze = 'torch==2.4.1+cu121\ntorchvision==0.19.1+cu121\nmmcv==2.1.0\nnumpy==1.26.4\nrich==13.0.0'
    result, calls = run_install(tmp_path, '--current-env', mmcv_installed=True, FAKE_FREEZE=freeze, FAKE_NO_PKG_RESOURCES='1')
    assert result.returncode == 0, result.stderr
    assert not any(c['kind'] == 'venv' for c in calls)
    assert not (tmp_path / 'venv').exists()
    owned = {'torch', 'torchvision', 'mmcv', 'numpy', 'opencv-python', 'opencv-python-headless'}
    installs = pip_installs(calls)
    assert installs
    for call in installs:
        assert not owned & {Requirement(w).name for w in requirement_args(call)}, call['args']
        # Whatever pip resolves, the user's builds are pinned to what is installed, not to our pins.
        text = call['constraint_text']
        assert 'torch==2.4.1+cu121' in text and 'torchvision==0.19.1+cu121' in text
        assert 'torch==2.14.1' not in text and 'numpy==1.26.4' in text
        assert 'setuptools' in text  # still capped: pkg_resources must survive
    assert any('setuptools' in requirement_args(c) for c in installs), 'pkg_resources was missing: restored'
    assert calls[-1]['kind'] == 'doctor'


def test_unknown_option_is_one_line_and_installs_nothing(tmp_path):
    result, calls = run_install(tmp_path, '--curent-env')
    assert result.returncode == 2
    assert result.stderr.strip().count('\n') == 0 and '--curent-env' in result.stderr
    assert calls == []


def _constraint(name):
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split('#')[0].strip()
        if line and Requirement(line).name == name:
            return Requirement(line).specifier
    raise AssertionError(f'{name} is not pinned in constraints.txt')


def test_constraints_keep_pkg_resources_numpy_1_and_the_measured_stack():
    setuptools = _constraint('setuptools')
    assert Version('77.0.3') in setuptools, 'torch 2.14.1 requires setuptools>=77.0.3'
    assert not any(Version(v) in setuptools for v in ('81.0.0', '82.0.0', '84.2.1')), \
        'setuptools >= 82 has no pkg_resources (81 warns on every import)'
    numpy = _constraint('numpy')
    assert Version('1.26.4') in numpy and Version('2.0.0') not in numpy
    for name in ('torch', 'torchvision', 'mmcv', 'mmengine', 'mmsegmentation', 'mmpose', 'opencv-python'):
        pinned = list(_constraint(name))
        assert len(pinned) == 1 and pinned[0].operator == '==', f'{name} must be pinned exactly'


@pytest.mark.parametrize('name', ['setuptools', 'numpy', 'torch', 'opencv-python'])
def test_constraints_pin_each_name_once(name):
    lines = [ln.split('#')[0].strip() for ln in CONSTRAINTS.read_text().splitlines()]
    assert sum(1 for ln in lines if ln and Requirement(ln).name == name) == 1
