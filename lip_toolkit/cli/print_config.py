"""``lip-toolkit print-config``: the resolved config (MMPose's / MMSeg's ``tools/misc/print_config.py``)."""
import click

from ._common import cfg_options_option


@click.command('print-config')
@click.argument('config')
@cfg_options_option
def cli(config, cfg_options):
    """Print CONFIG as training sees it: _base_ files merged, --cfg-options applied.

    The text is mmengine's (Config.pretty_text) and reads back as the same config.

    \b
    Examples:
      lip-toolkit print-config configs/demo/pose_hrnet-tiny_lip-128x96.py
      lip-toolkit print-config configs/demo/pose_hrnet-tiny_lip-128x96.py --cfg-options train_cfg.max_epochs=5
    """
    from ..tools.print_config import print_config
    click.echo(print_config(config, cfg_options))
