"""Options shared by several commands (launching, config overrides) and the relaunch under torchrun."""
import functools

import click

LAUNCH_VALUE_OPTIONS = ('--gpus', '--nnodes', '--node-rank', '--master-addr', '--master-port')


def launch_options(func):
    """``--launcher`` (mmengine's) plus a convenience form that starts torchrun itself."""
    options = [
        click.option('--launcher', type=click.Choice(['none', 'pytorch', 'slurm']), default='none',
                     show_default=True, help='Job launcher: under torchrun use pytorch, under srun slurm.'),
        click.option('--gpus', type=click.IntRange(min=1), default=None,
                     help='Start torchrun with this many processes per node (one per GPU; gloo processes on CPU).'),
        click.option('--nnodes', type=click.IntRange(min=1), default=1, show_default=True,
                     help='Number of nodes (with --gpus).'),
        click.option('--node-rank', type=click.IntRange(min=0), default=0, show_default=True,
                     help='Rank of this node (with --gpus).'),
        click.option('--master-addr', default='127.0.0.1', show_default=True,
                     help='Address of node 0 (with --gpus).'),
        click.option('--master-port', type=click.IntRange(1, 65535), default=None,
                     help='Port on node 0 (with --gpus); default a free port on one node, 29500 on several.'),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def strip_launch_options(argv):
    """``argv`` without the convenience launch options (they must not reach the processes torchrun starts)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in LAUNCH_VALUE_OPTIONS or arg == '--launcher':
            skip = True
            continue
        if any(arg.startswith(opt + '=') for opt in LAUNCH_VALUE_OPTIONS + ('--launcher',)):
            continue
        out.append(arg)
    return out


def relaunch_if_requested(params: dict) -> bool:
    """If ``--gpus`` was given without a launcher, run this same command under torchrun and exit with its code."""
    if params.get('gpus') is None or params.get('launcher', 'none') != 'none':
        return False
    from ..core.launch import run_torchrun
    from . import current_argv
    code = run_torchrun(strip_launch_options(current_argv()), nproc_per_node=params['gpus'],
                        nnodes=params['nnodes'], node_rank=params['node_rank'],
                        master_addr=params['master_addr'], master_port=params['master_port'])
    raise click.exceptions.Exit(code)


def cfg_options_option(func):
    @click.option('--cfg-options', 'cfg_options', multiple=True, metavar='KEY=VALUE',
                  help='Override config values, e.g. --cfg-options train_dataloader.batch_size=8 '
                       'model.backbone.init_cfg.checkpoint=/path/imagenet.pth (repeatable; further KEY=VALUE '
                       'words after it are taken too).')
    @click.argument('extra_cfg_options', nargs=-1, metavar='')
    @functools.wraps(func)
    def wrapper(*args, cfg_options=(), extra_cfg_options=(), **kwargs):
        from ..core.runner import parse_cfg_options
        items = list(cfg_options) + list(extra_cfg_options)
        kwargs['cfg_options'] = parse_cfg_options(items) if items else None
        return func(*args, **kwargs)
    return wrapper


CHART_SUFFIXES = ('.png', '.pdf', '.svg', '.jpg', '.jpeg')


def _check_chart_suffix(ctx, param, value):
    # Checked before any work, so a bad name never leaves the other outputs written and the chart missing.
    if value is not None and not str(value).lower().endswith(CHART_SUFFIXES):
        raise click.BadParameter(f'must end in {", ".join(CHART_SUFFIXES)}: {value}')
    return value


def chart_option(func):
    """``--chart FILE``: the evaluation's bar chart (per-joint PCKh or per-class IoU) beside the printed table."""
    return click.option('--chart', type=click.Path(dir_okay=False), default=None, metavar='FILE',
                        callback=_check_chart_suffix,
                        help='Also draw the scores as a bar chart (per-joint PCKh / per-class IoU): .png/.pdf/.svg.'
                        )(func)


def write_chart(scores: dict, chart, title: str = '') -> None:
    if chart:
        from ..visualization import plot_scores
        plot_scores({k: v for k, v in scores.items() if k != 'table'}, chart, title=title)
        click.echo(f'chart written to {chart}', err=True)


def overwrite_option(func):
    """``--overwrite``: the one rule for outputs that exist (:func:`lip_toolkit.core.io.check_output`)."""
    return click.option('--overwrite', is_flag=True,
                        help='Replace outputs that exist already (a folder is replaced as a whole).')(func)


def check_outputs(overwrite: bool, *paths) -> None:
    """Refuse, before any work, outputs that exist unless ``--overwrite`` (``None`` paths are not written)."""
    from ..core.io import check_output
    for path in paths:
        if path is not None:
            check_output(path, overwrite)
