"""``lip-toolkit data cihp`` and ``lip-toolkit data mhp``: multi-human parsing data as LIP single-person samples."""
import click

from ._common import overwrite_option


def _common_options(function):
    options = [
        click.argument('src', type=click.Path(file_okay=False)),
        click.argument('dst', type=click.Path(file_okay=False)),
        click.option('--on-error', type=click.Choice(['stop', 'skip']), default='stop', show_default=True,
                     help='At a bad item (missing/unreadable file, size mismatch, invalid label): stop, or skip '
                          'it and list it (stderr and DST/skipped.txt).'),
        click.option('--torso-skin', type=click.Choice(['ignore', 'background']), default='ignore',
                     show_default=True, help='Label for torso skin, which LIP has no class for: 255 or 0.'),
        click.option('--margin', type=click.FloatRange(0, 1), default=0.1, show_default=True,
                     help='Context around each person box, as a fraction of its size per side.'),
        click.option('--min-height', type=click.IntRange(min=0), default=32, show_default=True,
                     help='Leave out persons whose own box is lower than this (pixels); they are counted.'),
        click.option('--workers', type=click.IntRange(min=1), default=None,
                     help='Processes. Default: all available CPUs.'),
        overwrite_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _report(report):
    click.echo(report.summary())


@click.command(name='cihp')
@_common_options
def cihp_cli(src, dst, on_error, torso_skin, margin, min_height, workers, overwrite):
    """Cut CIHP into single-person LIP samples (LIP layout, 20 LIP classes) in DST.

    SRC is CIHP's instance-level_human_parsing folder (Training/ and Validation/ with Images, Category_ids,
    Human_ids and train_id.txt / val_id.txt). Each person is cropped with some context; other persons' pixels
    become 255 (ignored). CIHP's class 10 is Torso-skin, not LIP's Jumpsuits: it becomes 255 (--torso-skin).

    \b
    Examples:
      lip-toolkit data cihp data/CIHP/instance-level_human_parsing data/cihp_lip
      lip-toolkit data cihp data/CIHP data/cihp_lip --on-error skip --torso-skin background
    """
    from ..parsing.datasets.multihuman import convert_cihp
    _report(convert_cihp(src, dst, on_error=on_error, torso_skin=torso_skin, margin=margin, min_height=min_height,
                         workers=workers, overwrite=overwrite))


@click.command(name='mhp')
@_common_options
def mhp_cli(src, dst, on_error, torso_skin, margin, min_height, workers, overwrite):
    """Cut MHP v2 into single-person LIP samples (LIP layout, 58 classes mapped to LIP's 20) in DST.

    SRC is the LV-MHP-v2 folder ({train,val}/images, {train,val}/parsing_annos/<id>_<NN>_<kk>.png with the label
    in the red channel, list/{train,val}.txt). The class map is in docs/parsing_data.md.

    \b
    Examples:
      lip-toolkit data mhp data/LV-MHP-v2 data/mhp_lip
      lip-toolkit data mhp data/LV-MHP-v2 data/mhp_lip --on-error skip --margin 0.15
    """
    from ..parsing.datasets.multihuman import convert_mhp
    _report(convert_mhp(src, dst, on_error=on_error, torso_skin=torso_skin, margin=margin, min_height=min_height,
                        workers=workers, overwrite=overwrite))
