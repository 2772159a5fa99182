"""``lip-toolkit browse-dataset``: the training pipeline's augmented samples drawn
(``tools/misc/browse_dataset.py``)."""
import click

from ._common import cfg_options_option, check_outputs, overwrite_option


@click.command('browse-dataset')
@click.argument('config')
@click.option('--out', 'out_dir', required=True, type=click.Path(file_okay=False), help='Folder for the pictures.')
@click.option('-n', '--num', type=click.IntRange(min=1), default=10, show_default=True, help='How many samples.')
@click.option('--phase', type=click.Choice(['train', 'val', 'test']), default='train', show_default=True,
              help="Which dataloader's dataset and pipeline.")
@click.option('--data-root', type=click.Path(file_okay=False), default=None,
              help="LIP release folder for the config's LIP datasets (as train --data-root).")
@click.option('--seed', type=int, default=0, show_default=True, help='Seed of the random augmentations.')
@overwrite_option
@cfg_options_option
def cli(config, out_dir, num, phase, data_root, seed, overwrite, cfg_options):
    """Draw the first N samples of CONFIG's dataset as its pipeline delivers them to the model (augmented, with
    the skeleton or label map moved along), one <index>_<image>.png each.

    \b
    Examples:
      lip-toolkit browse-dataset configs/demo/pose_hrnet-tiny_lip-128x96.py --data-root data/synth --out vis/aug -n 8
      lip-toolkit browse-dataset CONFIG --phase val --out vis/val_inputs
    """
    check_outputs(overwrite, out_dir)
    from ..tools.browse_dataset import browse_dataset
    paths = browse_dataset(config, out_dir, num=num, phase=phase, data_root=data_root, cfg_options=cfg_options,
                           seed=seed)
    click.echo(f'wrote {len(paths)} picture(s) to {out_dir}')
