"""What the toolkit needs from its environment, checked: versions, compiled ops, CUDA, ``pkg_resources``.

``collect_environment()`` returns one :class:`Check` per item (OpenMMLab's ``collect_env`` gives the versions;
this also judges them and names the fix). ``lip-toolkit doctor`` prints it, the install script ends by running
it, and the test suite runs it in the installed environment, so that a drift of the stack (a setuptools without
``pkg_resources``, numpy 2, an mmcv built against another torch) fails CI instead of a user's first command.
"""
import importlib
import importlib.metadata
import platform
import sys
from dataclasses import asdict, dataclass
from typing import List, Optional

# The versions the install pins (constraints.txt); other versions may work but were not measured.
SUPPORTED_PYTHON = ((3, 9), (3, 12))
MMCV_VERSION = '2.1.0'
MMENGINE_VERSION = '0.10.7'
MMSEG_VERSION = '1.2.2'
MMPOSE_VERSION = '1.3.2'
MMDET_SERIES = '3.3.'
SETUPTOOLS_WITHOUT_PKG_RESOURCES = 82
PLUGIN_PACKAGES = ('lip_toolkit.pose.plugins', 'lip_toolkit.parsing.plugins')
REINSTALL_HINT = 'scripts/install.sh (or: pip install -c constraints.txt ...)'


@dataclass
class Check:
    """One line of the report: ``ok`` False with a ``fix`` is a problem; ``ok`` None is information only."""
    name: str
    value: str
    ok: Optional[bool] = None
    fix: str = ''


def _version(distribution: str) -> Optional[str]:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _major(version: str) -> int:
    return int(version.split('.')[0])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f'{type(exc).__name__}: {text[0] if text else ""}'.rstrip(': ')


def _pinned(name: str, distribution: str, wanted: str, module: str) -> Check:
    installed = _version(distribution)
    if installed is None:
        return Check(name, 'not installed', False, f'install it: {REINSTALL_HINT}')
    try:
        importlib.import_module(module)
    except Exception as exc:  # any import failure is the finding
        return Check(name, f'{installed}, import fails ({_first_line(exc)})', False,
                     f'reinstall it: {REINSTALL_HINT}')
    if installed != wanted and not (wanted.endswith('.') and installed.startswith(wanted)):
        shown = wanted + 'x' if wanted.endswith('.') else wanted
        return Check(name, installed, False, f'the toolkit is tested with {distribution} {shown}: '
                                             f'pip install -c constraints.txt "{distribution}=={shown.replace("x", "*")}"')
    return Check(name, installed, True)


def _python() -> Check:
    version = sys.version_info[:2]
    text = f'{platform.python_version()} ({sys.executable})'
    low, high = SUPPORTED_PYTHON
    if not low <= version <= high:
        return Check('python', text, False, f'use Python {low[0]}.{low[1]}-{high[0]}.{high[1]} '
                                            '(the OpenMMLab 1.x stack does not support others)')
    return Check('python', text, True)


def _setuptools() -> List[Check]:
    installed = _version('setuptools')
    checks = [Check('setuptools', installed or 'not installed', None)]
    try:
        importlib.import_module('pkg_resources')
        checks.append(Check('pkg_resources', 'imports', True))
    except Exception as exc:
        why = f'setuptools {installed} no longer ships it' if installed and \
            _major(installed) >= SETUPTOOLS_WITHOUT_PKG_RESOURCES else _first_line(exc)
        checks.append(Check('pkg_resources', f'missing ({why})', False,
                            'mmengine needs it to read mmseg::/mmpose:: configs and mmcv\'s setup.py to build: '
                            'pip install "setuptools>=77.0.3,<81"'))
    return checks


def _numpy() -> Check:
    installed = _version('numpy')
    if installed is None:
        return Check('numpy', 'not installed', False, f'install it: {REINSTALL_HINT}')
    if _major(installed) >= 2:
        return Check('numpy', installed, False, 'mmcv 2.1.0 and the OpenMMLab 1.x stack need numpy 1.x: '
                                                'pip install -c constraints.txt "numpy<2"')
    return Check('numpy', installed, True)


def _opencv() -> Check:
    try:
        import cv2
    except Exception as exc:
        return Check('opencv', f'import fails ({_first_line(exc)})', False,
                     'pip install -c constraints.txt opencv-python==4.11.0.86')
    return Check('opencv', cv2.__version__, True)


def _torch() -> List[Check]:
    try:
        import torch
    except Exception as exc:
        return [Check('torch', f'import fails ({_first_line(exc)})', False, f'install it: {REINSTALL_HINT}')]
    cuda_build = torch.version.cuda or 'CPU only'
    checks = [Check('torch', f'{torch.__version__} (CUDA build: {cuda_build})', True)]
    if torch.cuda.is_available():
        names = ', '.join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        checks.append(Check('CUDA', f'usable: {torch.cuda.device_count()} device(s): {names}', True))
    elif torch.version.cuda:
        checks.append(Check('CUDA', 'not usable (no GPU or driver visible); CPU only', None))
    else:
        checks.append(Check('CUDA', 'not built in (CPU-only torch)', None))
    try:
        import torchvision
        from torchvision.ops import nms
        nms(torch.zeros(1, 4), torch.zeros(1), 0.5)  # loads torchvision's compiled ops
        checks.append(Check('torchvision', f'{torchvision.__version__}, ops load', True))
    except Exception as exc:
        checks.append(Check('torchvision', f'ops fail ({_first_line(exc)})', False,
                            'install the torchvision built for this torch: pip install -c constraints.txt '
                            'torch torchvision'))
    return checks


def _mmcv() -> List[Check]:
    installed = _version('mmcv')
    if installed is None:
        lite = ' (mmcv-lite is installed, which has no compiled ops)' if _version('mmcv-lite') else ''
        return [Check('mmcv', 'not installed' + lite, False, f'install mmcv {MMCV_VERSION} with ops: '
                                                             f'{REINSTALL_HINT}')]
    if installed != MMCV_VERSION:
        return [Check('mmcv', installed, False, f'the toolkit needs mmcv {MMCV_VERSION}: {REINSTALL_HINT}')]
    try:
        ops = importlib.import_module('mmcv.ops')
        cuda_ops = ops.get_compiling_cuda_version()
    except Exception as exc:
        return [Check('mmcv', f'{installed}, compiled ops do not load ({_first_line(exc)})', False,
                      'an mmcv wheel built against another torch does this: pip uninstall -y mmcv, then '
                      'run scripts/install.sh again (it builds or finds a matching one)')]
    where = 'CPU and CUDA' if cuda_ops not in ('not available', '', None) else 'CPU'
    return [Check('mmcv', f'{installed}, compiled ops load ({where})', True)]


def _config_resolution() -> Check:
    # mmengine resolves ``mmseg::``/``mmpose::`` bases through pkg_resources (mmengine 0.10.7).
    try:
        from mmengine.utils import get_installed_path
        get_installed_path('mmseg')
        get_installed_path('mmpose')
    except Exception as exc:
        return Check('mmseg::/mmpose:: configs', f'cannot resolve ({_first_line(exc)})', False,
                     'pip install "setuptools>=77.0.3,<81" (mmengine 0.10.7 needs pkg_resources)')
    return Check('mmseg::/mmpose:: configs', 'resolve', True)


def _plugins() -> Check:
    try:
        for package in PLUGIN_PACKAGES:
            importlib.import_module(package)
    except Exception as exc:
        return Check('lip_toolkit plugins', f'do not register ({_first_line(exc)})', False,
                     'reinstall the toolkit: pip install --no-deps -e .')
    return Check('lip_toolkit plugins', 'registered with mmpose and mmseg', True)


def collect_environment() -> List[Check]:
    """Every check, in the order a reader needs them (a failing early item explains later ones)."""
    checks = [_python(), *_setuptools(), _numpy(), _opencv(), *_torch(), *_mmcv(),
              _pinned('mmengine', 'mmengine', MMENGINE_VERSION, 'mmengine'),
              _pinned('mmdet', 'mmdet', MMDET_SERIES, 'mmdet'),
              _pinned('mmseg', 'mmsegmentation', MMSEG_VERSION, 'mmseg'),
              _pinned('mmpose', 'mmpose', MMPOSE_VERSION, 'mmpose'),
              _config_resolution()]
    if not any(c.ok is False for c in checks):
        checks.append(_plugins())  # registering imports the whole stack: only meaningful when it is sound
    return checks


def problems(checks: List[Check]) -> List[Check]:
    return [c for c in checks if c.ok is False]


def as_dicts(checks: List[Check]) -> List[dict]:
    return [asdict(c) for c in checks]
