"""Register lip-toolkit's plugins with MMPose's and MMSegmentation's registries.

Importing mmpose costs about 6 s, so ``import lip_toolkit`` must not do it. Instead:

* if mmpose / mmseg are already imported, our plugin modules are added to their registries' locations at once;
* otherwise an import hook waits for ``mmpose.registry`` / ``mmseg.registry`` and then adds our packages to
  those registries' ``locations``, the mechanism the host libraries use for their own modules: the first
  ``build``/``get`` on the registry imports them.

Configs also list the packages in ``custom_imports``, so MMPose's and MMSeg's own tools find them too.
"""
import importlib
import importlib.abc
import importlib.util
import sys

# host registry module -> our package that registers into it
PLUGIN_PACKAGES = {
    'mmpose.registry': 'lip_toolkit.pose.plugins',
    'mmseg.registry': 'lip_toolkit.parsing.plugins',
}
_REGISTRY_NAMES = ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'KEYPOINT_CODECS', 'EVALUATOR', 'HOOKS')


def _add_locations(registry_module) -> None:
    package = PLUGIN_PACKAGES[registry_module.__name__]
    for name in _REGISTRY_NAMES:
        registry = getattr(registry_module, name, None)
        locations = getattr(registry, '_locations', None)
        if locations is not None and package not in locations:
            locations.append(package)
            # A registry that already imported its locations would not look again.
            if getattr(registry, '_imported', False):
                registry._imported = False


class _RegistryWatcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the real loader of a host registry module to run code after it."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in PLUGIN_PACKAGES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        real_exec = spec.loader.exec_module

        def exec_module(module):
            real_exec(module)
            _add_locations(module)

        spec.loader.exec_module = exec_module
        return spec


_WATCHER = _RegistryWatcher()


def install_registration_hook() -> None:
    """Register now for host libraries already imported; watch for the others."""
    for registry_module, package in PLUGIN_PACKAGES.items():
        if registry_module in sys.modules:
            _add_locations(sys.modules[registry_module])
    if _WATCHER not in sys.meta_path:
        sys.meta_path.insert(0, _WATCHER)


def register_all_modules(pose: bool = True, parsing: bool = True) -> None:
    """Import every plugin now (the equivalent of mmpose's ``register_all_modules``)."""
    if pose:
        importlib.import_module('lip_toolkit.pose.plugins')
    if parsing:
        importlib.import_module('lip_toolkit.parsing.plugins')
