"""The ``lip-toolkit`` command line: a thin click layer over the package's Python API.

Each command lives in its own module here (``train.py`` -> ``lip-toolkit train``) and exposes a click command
named ``cli``; modules are found by name and imported only when their command runs or help is shown. Command
modules import nothing heavy at module level (torch, mmpose and mmseg load inside the functions that use them),
which keeps ``lip-toolkit --help`` fast.
"""
import difflib
import importlib
import pkgutil
import sys
import traceback
import warnings

import click

from ..core.errors import LipToolkitError
from ..core.launch import shutdown_distributed
from ..version import __version__

CONTEXT_SETTINGS = dict(help_option_names=['-h', '--help'], max_content_width=100)

# Commands listed first in --help, in this order; others follow alphabetically.
PRIMARY_COMMANDS = ('train', 'evaluate', 'ensemble', 'submit', 'predict', 'demo', 'data', 'visualize', 'convert')


def _command_modules():
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith('_')]
    return {name.replace('_', '-'): name for name in names}


class LazyGroup(click.Group):
    """A group whose commands are the modules of this package, imported on demand."""

    def list_commands(self, ctx):
        names = set(_command_modules())
        primary = [n for n in PRIMARY_COMMANDS if n in names]
        return primary + sorted(names - set(primary))

    def get_command(self, ctx, cmd_name):
        module_name = _command_modules().get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f'{__name__}.{module_name}')
        return module.cli

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name is not None and not name.startswith('-') and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx))
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ''
            ctx.fail(f'No such command {name!r}.{hint}')
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, '-V', '--version', prog_name='lip-toolkit')
@click.option('--debug', is_flag=True, help='Show full tracebacks instead of one-line errors.')
@click.option('-q', '--quiet', is_flag=True, help='No progress bars or informational output.')
@click.option('-v', '--verbose', is_flag=True,
              help="Also show on screen what goes only to a training's log file by default (environment, config, "
                   "hooks, the host libraries' notices and warnings).")
@click.pass_context
def cli(ctx, debug, quiet, verbose):
    """Train, evaluate, ensemble and submit LIP pose (PCKh) and parsing (mIoU) models.

    \b
    Start with:
      lip-toolkit demo --out demo_out       # everything on synthetic data, a few CPU minutes
      lip-toolkit COMMAND --help            # each command with examples
    """
    ctx.ensure_object(dict)
    ctx.obj['debug'] = debug
    ctx.obj['quiet'] = quiet
    if quiet:
        from ..core.progress import set_quiet
        set_quiet(True)
    if verbose:
        from ..core.logs import set_verbose
        set_verbose(True)


_ARGV = []


def current_argv():
    """The arguments of this invocation (used to relaunch the same command under torchrun)."""
    return list(_ARGV)


def main(argv=None) -> int:
    """Console-script entry point: one line and a non-zero exit on user errors, tracebacks only with --debug."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _ARGV[:] = argv
    # mmengine imports pkg_resources (setuptools < 81 is pinned for mmcv's build); its notice is noise here.
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)
    debug = '--debug' in argv
    from ..core.logs import is_verbose, route_warnings, set_verbose
    from ..core.progress import is_quiet, set_quiet
    quiet_before, verbose_before = is_quiet(), is_verbose()
    showwarning_before = route_warnings()
    succeeded = False
    try:
        # Without standalone mode click returns (not raises) the code of a ``click.exceptions.Exit``.
        code = cli.main(args=argv, prog_name='lip-toolkit', standalone_mode=False)
        succeeded = not isinstance(code, int) or code == 0
        if isinstance(code, int):
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo('Aborted.', err=True)
        return 130
    except KeyboardInterrupt:
        click.echo('Interrupted.', err=True)
        return 130
    except LipToolkitError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f'error: {exc.one_line()}', err=True)
        return 1
    except Exception as exc:  # an unexpected failure: still one line unless --debug
        if debug:
            traceback.print_exc()
        else:
            message = str(exc).splitlines()[0] if str(exc) else ''
            click.echo(f'error: {type(exc).__name__}: {message} (run with --debug for the traceback)', err=True)
        return 1
    finally:
        shutdown_distributed(synchronise=succeeded)
        # --quiet and --verbose belong to this invocation only (main() is also called in-process)
        set_quiet(quiet_before)
        set_verbose(verbose_before)
        warnings.showwarning = showwarning_before
    return 0


if __name__ == '__main__':
    sys.exit(main())
