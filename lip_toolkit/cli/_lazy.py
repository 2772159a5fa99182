"""Click groups whose subcommands live in other modules and load only when used."""
import importlib
import importlib.util

import click


class LazySubcommands(click.Group):
    """A group with subcommands given as ``{name: 'module:attribute'}`` (modules relative to this package).

    A subcommand whose module does not exist yet is simply not listed. ``default`` names a subcommand that
    receives the arguments when the first one is not a subcommand name (``evaluate CONFIG CHECKPOINT``).
    """

    def __init__(self, *args, lazy_subcommands=None, default=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})
        self.default_subcommand = default

    def _available(self, name):
        module = self.lazy_subcommands[name].split(':')[0]
        return importlib.util.find_spec(f'{__package__}.{module}') is not None

    def list_commands(self, ctx):
        names = [n for n in self.lazy_subcommands if self._available(n)]
        return names + sorted(super().list_commands(ctx))

    def get_command(self, ctx, cmd_name):
        if cmd_name in self.lazy_subcommands and self._available(cmd_name):
            module_name, attribute = self.lazy_subcommands[cmd_name].split(':')
            module = importlib.import_module(f'{__package__}.{module_name}')
            return getattr(module, attribute)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx, args):
        if (self.default_subcommand and args and args[0] not in self.lazy_subcommands
                and not args[0].startswith('-')):
            args = [self.default_subcommand, *args]
        return super().resolve_command(ctx, args)
