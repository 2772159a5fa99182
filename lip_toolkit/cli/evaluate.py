"""``lip-toolkit evaluate``: score prediction files offline, or a model checkpoint on a split."""
import click

from ._lazy import LazySubcommands


@click.group(
    cls=LazySubcommands,
    lazy_subcommands={
        'pose': '_evaluate_pose:cli',
        'parsing': '_evaluate_parsing:cli',
        'model': '_evaluate_model:cli',
    },
    default='model',
    invoke_without_command=False,
)
def cli():
    """Score LIP predictions: offline files (pose CSV, parsing PNGs) or a CONFIG and CHECKPOINT.

    \b
    Examples:
      lip-toolkit evaluate pose --gt lip_val_set.csv --pred pred.csv --json scores.json
      lip-toolkit evaluate parsing --gt-dir val_segmentations --pred-dir pred_pngs
      lip-toolkit evaluate configs/pose/hrnet/CONFIG.py epoch_210.pth --out pred.csv
      lip-toolkit evaluate model CONFIG CHECKPOINT        (same as the line above)
    """
