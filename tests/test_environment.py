"""lip_toolkit.environment / `lip-toolkit doctor`: the installed environment is sound, and each known breakage of
OpenMMLab installs is named with its fix."""
import importlib.metadata
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lip_toolkit import environment
from lip_toolkit.cli import cli


def by_name(checks):
    return {c.name: c for c in checks}


def test_this_environment_has_everything_the_toolkit_imports_at_run_time():
    # The CI guard against drift: a setuptools without pkg_resources, numpy 2, an mmcv whose ops do not load
    # beside this torch, a host library at another version... each makes this fail in CI's fresh venv.
    checks = environment.collect_environment()
    assert environment.problems(checks) == []
    names = by_name(checks)
    for required in ('pkg_resources', 'mmcv', 'torchvision', 'mmseg::/mmpose:: configs', 'lip_toolkit plugins'):
        assert names[required].ok is True


def test_pkg_resources_really_imports_in_a_fresh_interpreter():
    # Independent of the doctor's own code path (and of anything this test process imported before).
    code = 'import pkg_resources, mmcv.ops; from mmengine.utils import get_installed_path; get_installed_path("mmseg")'
    result = subprocess.run([sys.executable, '-W', 'ignore', '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr


def _fake_versions(monkeypatch, **versions):
    real = importlib.metadata.version

    def version(name):
        if name in versions:
            if versions[name] is None:
                raise importlib.metadata.PackageNotFoundError(name)
            return versions[name]
        return real(name)
    monkeypatch.setattr(environment.importlib.metadata, 'version', version)


def test_setuptools_without_pkg_resources_is_named_with_its_fix(monkeypatch):
    _fake_versions(monkeypatch, setuptools='84.2.1')
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)  # import now raises ImportError
    check = by_name(environment._setuptools())['pkg_resources']
    assert check.ok is False
    assert 'setuptools 84.2.1 no longer ships it' in check.value
    assert '"setuptools>=77.0.3,<81"' in check.fix


@pytest.mark.parametrize('installed, ok', [('1.26.4', True), ('2.0.0', False), ('2.5.2', False)])
def test_numpy_2_is_a_problem(monkeypatch, installed, ok):
    _fake_versions(monkeypatch, numpy=installed)
    check = environment._numpy()
    assert check.ok is ok
    if not ok:
        assert 'numpy<2' in check.fix


def test_mmcv_lite_or_missing_mmcv_is_named(monkeypatch):
    _fake_versions(monkeypatch, mmcv=None, **{'mmcv-lite': '2.1.0'})
    [check] = environment._mmcv()
    assert check.ok is False and 'mmcv-lite' in check.value


def test_mmcv_ops_that_do_not_load_give_the_uninstall_fix(monkeypatch):
    _fake_versions(monkeypatch, mmcv='2.1.0')
    monkeypatch.setitem(sys.modules, 'mmcv.ops', None)
    [check] = environment._mmcv()
    assert check.ok is False and 'pip uninstall -y mmcv' in check.fix


def test_a_host_library_at_another_version_is_a_problem(monkeypatch):
    _fake_versions(monkeypatch, mmsegmentation='1.1.0')
    check = environment._pinned('mmseg', 'mmsegmentation', environment.MMSEG_VERSION, 'mmseg')
    assert check.ok is False and 'mmsegmentation==1.2.2' in check.fix


def test_doctor_prints_the_verdict_and_exits_zero_here():
    result = CliRunner().invoke(cli, ['doctor'])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().splitlines()[-1] == 'verdict: ready'
    shown = {line[4:].split()[0] for line in result.output.splitlines() if line[:4] in ('ok  ', 'BAD ', '    ')}
    assert shown >= {'python', 'torch', 'CUDA', 'torchvision', 'mmcv', 'mmengine', 'mmdet', 'mmpose', 'mmseg',
                     'numpy', 'opencv', 'setuptools', 'pkg_resources'}


def test_doctor_exits_one_with_each_fix_when_something_is_wrong(monkeypatch):
    _fake_versions(monkeypatch, numpy='2.5.2')
    result = CliRunner().invoke(cli, ['doctor'])
    assert result.exit_code == 1
    assert 'verdict: 1 problem(s)' in result.output
    assert '  numpy: mmcv 2.1.0 and the OpenMMLab 1.x stack need numpy 1.x' in result.output


def test_doctor_json_is_machine_readable(monkeypatch):
    result = CliRunner().invoke(cli, ['doctor', '--json'])
    data = json.loads(result.output)
    assert data['ok'] is True
    assert {c['name'] for c in data['checks']} >= {'torch', 'mmcv', 'pkg_resources'}
