"""``lip-toolkit data synth``: write a synthetic LIP release tree (demo and test data)."""
import click

from ._common import overwrite_option


@click.command(name='synth')
@click.argument('out_dir', type=click.Path(file_okay=False))
@click.option('--train', 'train', type=int, default=64, show_default=True, help='Training images.')
@click.option('--val', 'val', type=int, default=24, show_default=True, help='Validation images.')
@click.option('--test', 'test', type=int, default=8, show_default=True,
              help='Test images (no annotations, like the real release).')
@click.option('--seed', type=int, default=0, show_default=True,
              help='Random seed; the same seed writes byte-identical files.')
@click.option('--workers', type=int, default=None,
              help='Processes to render with (default: one per available core).')
@overwrite_option
def cli(out_dir, train, val, test, seed, workers, overwrite):
    """Write synthetic LIP data to OUT_DIR, laid out exactly like the real LIP release.

    People are drawn with part labels (20 LIP classes) and 16 keypoints that agree, in varied poses, sizes,
    backgrounds, both facing directions, with occluded (v=1) and cut-off (nan) joints. The folder is built
    aside and swapped in only when complete.

    \b
    Examples:
      lip-toolkit data synth data/synth_lip
      lip-toolkit data synth data/synth_lip --train 800 --val 200 --test 100 --seed 1 --overwrite
    """
    from ..core.errors import LipToolkitError
    from ..synthetic import synthesize_lip

    if workers is not None and workers < 1:
        raise LipToolkitError(f'--workers must be at least 1, got {workers}')
    summary = synthesize_lip(out_dir, train=train, val=val, test=test, seed=seed, overwrite=overwrite,
                             workers=workers)
    click.echo(summary.one_line())
