"""Write docs/cli.md from the commands' own --help texts (run after changing any command).

    python scripts/gen_cli_reference.py            # rewrite docs/cli.md
    python scripts/gen_cli_reference.py --check    # exit 1 if docs/cli.md is out of date
"""
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lip_toolkit.cli import cli  # noqa: E402

TARGET = ROOT / 'docs' / 'cli.md'


def _walk(command, path, ctx_parent=None):
    # info_name is this command's own name: click prefixes the parents' names itself (the usage line).
    ctx = click.Context(command, info_name=path[-1], parent=ctx_parent, max_content_width=100,
                        terminal_width=100)
    yield path, command.get_help(ctx)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not getattr(sub, 'hidden', False):
                yield from _walk(sub, path + [name], ctx)


def render() -> str:
    parts = ['# CLI reference', '',
             'Generated from the commands\' own `--help` by `python scripts/gen_cli_reference.py`; '
             'a test keeps it in step with the code.', '']
    for path, text in _walk(cli, ['lip-toolkit']):
        parts += [f'## `{" ".join(path)}`', '', '```text', text.rstrip(), '```', '']
    return '\n'.join(parts)


def main(argv):
    text = render()
    if '--check' in argv:
        current = TARGET.read_text() if TARGET.exists() else ''
        if current != text:
            print('docs/cli.md is out of date: run python scripts/gen_cli_reference.py', file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f'wrote {TARGET}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
