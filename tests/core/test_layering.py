"""``core/`` is what both tracks share: none of its modules may import a track (or the modules above them)."""
import ast
from pathlib import Path

import lip_toolkit

PACKAGE = Path(lip_toolkit.__file__).parent
TRACKS = ('pose', 'parsing')


def imported_modules(source: str, package: str):
    """Absolute dotted names of every module ``source`` imports, relative imports resolved against ``package``."""
    package = package.split('.')
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = '.'.join(base + ([node.module] if node.module else []))
            yield module
            if not node.module:  # `from .. import pose`
                yield from (f'{module}.{alias.name}' for alias in node.names)


def test_the_resolver_sees_track_imports_in_every_spelling():
    source = ('from ..pose.submission import x\nfrom .. import parsing\nimport lip_toolkit.pose.metrics\n'
              'from . import io\n')
    found = set(imported_modules(source, 'lip_toolkit.core'))
    assert {'lip_toolkit.pose.submission', 'lip_toolkit.parsing', 'lip_toolkit.pose.metrics',
            'lip_toolkit.core.io'} <= found


def test_core_imports_no_track():
    offenders = []
    for path in sorted((PACKAGE / 'core').rglob('*.py')):
        package = '.'.join(('lip_toolkit',) + path.relative_to(PACKAGE).parent.parts)
        for module in imported_modules(path.read_text(encoding='utf-8'), package):
            parts = module.split('.')
            if parts[0] == 'lip_toolkit' and len(parts) > 1 and parts[1] not in ('core', 'version'):
                offenders.append(f'{path.relative_to(PACKAGE)} imports {module}')
    assert not offenders, offenders
