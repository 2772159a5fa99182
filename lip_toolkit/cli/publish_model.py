"""``lip-toolkit publish-model``: a checkpoint stripped for release (``tools/misc/publish_model.py``)."""
import click

from ._common import overwrite_option


@click.command('publish-model')
@click.argument('checkpoint', metavar='IN_FILE', type=click.Path(dir_okay=False))
@click.argument('out_file', metavar='OUT_FILE', type=click.Path(dir_okay=False))
@overwrite_option
def cli(checkpoint, out_file, overwrite):
    """Write IN_FILE without what only resuming needs (optimizer, message hub, schedulers), named
    OUT_FILE-<first 8 hex digits of its sha256>.pth as OpenMMLab's publish_model names it.

    \b
    Examples:
      lip-toolkit publish-model work_dirs/hrnet_w32/epoch_210.pth hrnet_w32_lip-384x288.pth
      # -> hrnet_w32_lip-384x288-1a2b3c4d.pth
    """
    from ..tools.publish_model import publish_model
    path, info = publish_model(checkpoint, out_file, overwrite=overwrite)
    removed = ', '.join(info['removed']) or 'nothing'
    click.echo(f"published {path} ({info['size_out'] / 1e6:.2f} MB, was {info['size_in'] / 1e6:.2f} MB; "
               f'removed: {removed})')
