"""``import lip_toolkit`` makes our plugins reachable through mmpose's and mmseg's registries, in either import order."""
import subprocess
import sys

import pytest

PLUGINS = {
    'mmpose.registry': [('METRICS', 'LIPPCKhMetric'), ('DATASETS', 'LIPPoseDataset')],
    'mmseg.registry': [('METRICS', 'LIPMIoUMetric'), ('DATASETS', 'LIPParsingDataset')],
}


def _run(code):
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize('host_first', [False, True], ids=['lip_toolkit-first', 'host-first'])
@pytest.mark.parametrize('registry_module', sorted(PLUGINS))
def test_plugins_resolve_through_host_registries(registry_module, host_first):
    lookups = '; '.join(f'assert reg.{table}.get({name!r}) is not None, {name!r}'
                        for table, name in PLUGINS[registry_module])
    imports = [f'import {registry_module} as reg', 'import lip_toolkit']
    if not host_first:
        imports.reverse()
    _run('; '.join(imports) + '; ' + lookups + '; print("ok")')


def test_import_is_cheap():
    out = _run('import sys, lip_toolkit; print(sorted(m for m in ("torch", "mmpose", "mmseg") if m in sys.modules))')
    assert out.strip() == '[]'


def test_register_all_modules_registers_eagerly():
    _run('import lip_toolkit; lip_toolkit.register_all_modules(); import mmpose.registry as p, mmseg.registry as s; '
         'assert "LIPPCKhMetric" in p.METRICS.module_dict; assert "LIPMIoUMetric" in s.METRICS.module_dict')
