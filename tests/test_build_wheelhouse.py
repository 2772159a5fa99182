"""scripts/build_wheelhouse.sh (what it would fetch, the device's own packages left out, packing into carry-sized
parts) and benchmarks/device_check.sh's argument handling. Nothing is downloaded or built here."""
import hashlib
import subprocess

import pytest

from lip_toolkit.core.paths import REPO_ROOT

BUILD = REPO_ROOT / 'scripts' / 'build_wheelhouse.sh'
DRIVER = REPO_ROOT / 'benchmarks' / 'device_check.sh'
MIB = 2 ** 20


def _run(*args, cwd=None):
    return subprocess.run(['bash', *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_plan_names_the_stack_and_leaves_out_what_the_device_has(tmp_path):
    plan = _run(BUILD, '--dry-run')
    assert plan.returncode == 0, plan.stderr
    for pin in ('mmengine==0.10.7', 'mmdet==3.3.0', 'mmsegmentation==1.2.2', 'mmpose==1.3.2', 'mmcv==2.1.0',
                'xtcocotools==', 'scipy==', 'opencv-python-headless==', 'torchvision==0.26.0'):
        assert pin in plan.stdout
    assert 'torch==' not in plan.stdout.replace('torchvision==', '')  # the device's own torch is kept
    freeze = tmp_path / 'freeze.txt'
    freeze.write_text('torch==2.11.0+cu130\ntorchvision==0.26.0+cu130\nSciPy==1.15.2\n'
                      'opencv_python_headless==4.10.0.84\nPillow @ file:///tmp/pillow.whl\nnumpy==2.5.2\n')
    trimmed = _run(BUILD, '--dry-run', '--device-freeze', freeze)
    assert trimmed.returncode == 0, trimmed.stderr
    for gone in ('torchvision==', 'scipy==', 'opencv-python-headless==', 'pillow=='):
        assert gone not in trimmed.stdout
    assert 'mmpose==1.3.2' in trimmed.stdout and 'matplotlib==' in trimmed.stdout


@pytest.mark.parametrize('args,message', [
    (['--bogus'], "unknown argument '--bogus'"),
    (['--part-mib', 'ten'], 'whole number of MiB'),
    (['--device-freeze', '/no/such/freeze.txt'], 'no such file'),
    (['--out'], '--out needs a folder'),
])
def test_bad_arguments_are_one_line_errors(args, message):
    done = _run(BUILD, *args)
    assert done.returncode == 1 and message in done.stderr and done.stderr.count('\n') == 1


def _fake_files(folder, sizes_mib):
    folder.mkdir(parents=True)
    for name, size in sizes_mib.items():
        (folder / name).write_bytes(bytes([len(name) % 251]) * int(size * MIB))


def test_pack_fills_parts_under_the_limit_and_keeps_the_mmcv_build_unit_together(tmp_path):
    sizes = {'opencv.whl': 2.5, 'scipy.whl': 2.0, 'pillow.whl': 0.4, 'mmcv-2.1.0-patched.tar.gz': 0.5,
             'setuptools-80.whl': 0.5, 'ninja-1.whl': 0.1, 'wheel-0.48.whl': 0.05}
    _fake_files(tmp_path / 'all', sizes)
    digests = {name: hashlib.sha256((tmp_path / 'all' / name).read_bytes()).hexdigest() for name in sizes}
    done = _run(BUILD, '--pack', tmp_path, '--part-mib', '3')
    assert done.returncode == 0, done.stderr
    parts = sorted(tmp_path.glob('part-*'))
    placed = {}
    for part in parts:
        files = list(part.iterdir())
        assert sum(f.stat().st_size for f in files) <= 3 * MIB
        placed.update({f.name: part.name for f in files})
    assert sorted(placed) == sorted(sizes)  # every file once
    # first fit from the largest unit, worked by hand: opencv 2.5 | scipy 2.0 | the build unit (mmcv, setuptools,
    # ninja, wheel: 1.15) fits beside neither | pillow 0.4 beside opencv. Packed one by one, mmcv (0.5) would
    # join opencv and setuptools go beside scipy: the part with mmcv could not build it.
    assert {part: sorted(n for n, p in placed.items() if p == part) for part in ('part-1', 'part-2', 'part-3')} == {
        'part-1': ['opencv.whl', 'pillow.whl'], 'part-2': ['scipy.whl'],
        'part-3': ['mmcv-2.1.0-patched.tar.gz', 'ninja-1.whl', 'setuptools-80.whl', 'wheel-0.48.whl']}
    manifest = [line.split() for line in (tmp_path / 'MANIFEST.txt').read_text().splitlines()[1:]]
    assert {row[3]: (row[0], row[2]) for row in manifest} == {n: (placed[n], digests[n]) for n in sizes}
    assert not (tmp_path / 'all').exists()


def test_pack_refuses_a_file_larger_than_a_part(tmp_path):
    _fake_files(tmp_path / 'all', {'huge.whl': 2.0})
    done = _run(BUILD, '--pack', tmp_path, '--part-mib', '1')
    assert done.returncode != 0 and 'huge.whl' in done.stderr and 'larger than a part' in done.stderr


@pytest.mark.parametrize('args,message', [
    ([], 'usage:'),
    (['install'], 'at least one wheelhouse part'),
    (['install', '/no/such/part'], 'no such wheelhouse part'),
])
def test_device_driver_arguments(args, message, tmp_path):
    done = subprocess.run(['bash', str(DRIVER), *args], capture_output=True, text=True, timeout=60,
                          env={'PATH': '/usr/bin:/bin', 'LIP_DEVICE_ENV': str(tmp_path / 'env')})
    assert done.returncode == 1 and message in done.stderr and not (tmp_path / 'env').exists()
