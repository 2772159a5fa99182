"""``lip-toolkit data``: make and convert datasets."""
import click

from ._lazy import LazySubcommands


@click.group(
    cls=LazySubcommands,
    lazy_subcommands={
        'synth': '_data_synth:cli',
        'cihp': '_data_multihuman:cihp_cli',
        'mhp': '_data_multihuman:mhp_cli',
    },
)
def cli():
    """Create synthetic LIP data and convert multi-human parsing data to LIP's layout.

    \b
    Examples:
      lip-toolkit data synth data/synth_lip --train 200 --val 50 --test 20 --seed 0
      lip-toolkit data cihp data/CIHP/instance-level_human_parsing data/cihp_lip
      lip-toolkit data mhp data/LV-MHP-v2 data/mhp_lip
    """
