"""``lip-toolkit doctor``: the versions that matter, whether compiled ops and CUDA work, and the fix for each problem."""
import json

import click


@click.command('doctor')
@click.option('--json', 'as_json', is_flag=True, help='Print the checks as JSON (for bug reports and scripts).')
def cli(as_json):
    """Check this environment: python, torch + CUDA, torchvision ops, mmcv and its compiled ops, mmengine,
    mmdet, mmseg, mmpose, numpy, opencv, setuptools / pkg_resources, and the toolkit's plugins.

    Exits 1 when something is wrong, after naming the fix for each problem; the install script ends by
    running it. Paste its output into bug reports.

    \b
    Examples:
      lip-toolkit doctor
      lip-toolkit doctor --json > env.json
    """
    from ..environment import as_dicts, collect_environment, problems
    checks = collect_environment()
    found = problems(checks)
    if as_json:
        click.echo(json.dumps({'ok': not found, 'checks': as_dicts(checks)}, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            mark = {True: 'ok ', False: 'BAD', None: '   '}[check.ok]
            click.echo(f'{mark} {check.name:<{width}}  {check.value}')
        click.echo('')
        if found:
            click.echo(f'verdict: {len(found)} problem(s)')
            for check in found:
                click.echo(f'  {check.name}: {check.fix}')
        else:
            click.echo('verdict: ready')
    if found:
        raise click.exceptions.Exit(1)
