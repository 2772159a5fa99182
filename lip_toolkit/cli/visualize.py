"""``lip-toolkit visualize``: pictures of a dataset split, of prediction files, of training curves and scores."""
import click

from ._common import check_outputs, overwrite_option


@click.group()
def cli():
    """Draw LIP ground truth and predictions, training curves and evaluation bar charts.

    \b
    Examples:
      lip-toolkit visualize split data/LIP --split val --track pose --out vis/val_pose --limit 20
      lip-toolkit visualize split data/LIP --split val --track parsing --out vis/val_parsing --limit 20
      lip-toolkit visualize pose-pred --pred pred.csv --images data/LIP/TrainVal_images/val_images \\
          --gt data/LIP/TrainVal_pose_annotations/lip_val_set.csv --out vis/pose_pred
      lip-toolkit visualize parsing-pred --pred-dir pred_pngs --images data/LIP/TrainVal_images/val_images \\
          --gt-dir data/LIP/TrainVal_parsing_annotations/val_segmentations --out vis/parsing_pred
      lip-toolkit visualize curves work_dirs/my_run --out curves.png
      lip-toolkit visualize report scores.json --out scores.png
    """


def _done(paths, out_dir):
    click.echo(f'wrote {len(paths)} picture(s) to {out_dir}')


@cli.command('split')
@click.argument('data_root', type=click.Path(file_okay=False))
@click.option('--split', default='val', show_default=True, type=click.Choice(['train', 'val']),
              help='Which split to draw.')
@click.option('--track', required=True, type=click.Choice(['pose', 'parsing']),
              help='Skeletons (pose CSV) or coloured label maps (parsing PNGs).')
@click.option('--out', 'out_dir', required=True, type=click.Path(file_okay=False), help='Output folder.')
@click.option('--limit', type=click.IntRange(min=0), default=None, help='Draw only the first N images.')
@click.option('--alpha', type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help='Weight of the parsing colours over the image.')
@overwrite_option
def split_cli(data_root, split, track, out_dir, limit, alpha, overwrite):
    """Draw the ground truth of a LIP split (DATA_ROOT = the release root).

    \b
    Examples:
      lip-toolkit visualize split data/LIP --split val --track pose --out vis/val_pose --limit 20
      lip-toolkit visualize split data/LIP --split train --track parsing --out vis/train_parsing
    """
    check_outputs(overwrite, out_dir)
    from ..visualization.batch import visualize_split
    _done(visualize_split(data_root, split, track, out_dir, limit=limit, alpha=alpha), out_dir)


@cli.command('pose-pred')
@click.option('--pred', 'pred_csv', required=True, type=click.Path(dir_okay=False),
              help='Predictions in the LIP pose CSV format.')
@click.option('--images', 'images_dir', required=True, type=click.Path(file_okay=False),
              help='Folder with the images the CSV rows name.')
@click.option('--gt', 'gt_csv', type=click.Path(dir_okay=False), default=None,
              help='Ground-truth CSV (lip_val_set.csv format): draw it beside each prediction.')
@click.option('--out', 'out_dir', required=True, type=click.Path(file_okay=False), help='Output folder.')
@click.option('--limit', type=click.IntRange(min=0), default=None, help='Draw only the first N rows.')
@overwrite_option
def pose_pred_cli(pred_csv, images_dir, gt_csv, out_dir, limit, overwrite):
    """Draw predicted skeletons (orange = right, blue = left, hollow = occluded in the ground truth).

    \b
    Examples:
      lip-toolkit visualize pose-pred --pred pred.csv --images val_images --out vis/pred
      lip-toolkit visualize pose-pred --pred pred.csv --images val_images --gt lip_val_set.csv --out vis/pred
    """
    check_outputs(overwrite, out_dir)
    from ..visualization.batch import visualize_pose_predictions
    _done(visualize_pose_predictions(pred_csv, images_dir, out_dir, gt_csv=gt_csv, limit=limit), out_dir)


@cli.command('parsing-pred')
@click.option('--pred-dir', required=True, type=click.Path(file_okay=False),
              help='Folder of predicted label PNGs (pixel = class id).')
@click.option('--images', 'images_dir', required=True, type=click.Path(file_okay=False),
              help='Folder with the images, matched by file stem.')
@click.option('--gt-dir', type=click.Path(file_okay=False), default=None,
              help='Folder of ground-truth label PNGs: drawn beside each prediction.')
@click.option('--out', 'out_dir', required=True, type=click.Path(file_okay=False), help='Output folder.')
@click.option('--limit', type=click.IntRange(min=0), default=None, help='Draw only the first N predictions.')
@click.option('--alpha', type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help='Weight of the class colours over the image.')
@overwrite_option
def parsing_pred_cli(pred_dir, images_dir, gt_dir, out_dir, limit, alpha, overwrite):
    """Draw predicted parsing over each image, with a legend of the classes present.

    \b
    Examples:
      lip-toolkit visualize parsing-pred --pred-dir pred_pngs --images val_images --out vis/parsing
      lip-toolkit visualize parsing-pred --pred-dir pred_pngs --images val_images \\
          --gt-dir val_segmentations --out vis/parsing
    """
    check_outputs(overwrite, out_dir)
    from ..visualization.batch import visualize_parsing_predictions
    _done(visualize_parsing_predictions(pred_dir, images_dir, out_dir, gt_dir=gt_dir, limit=limit, alpha=alpha),
          out_dir)


@cli.command('curves')
@click.argument('work_dir', type=click.Path())
@click.option('--out', required=True, type=click.Path(dir_okay=False),
              help='Picture to write (.png, .pdf, .svg or .jpg).')
@click.option('--title', default=None, help='Figure title (default: the work dir name).')
@overwrite_option
def curves_cli(work_dir, out, title, overwrite):
    """Plot losses, learning rate and validation metrics of a training work dir.

    Reads the scalars MMEngine logs under WORK_DIR/<timestamp>/vis_data/; runs resumed in the same work dir
    are joined into one curve.

    \b
    Examples:
      lip-toolkit visualize curves work_dirs/hrnet_w32_lip --out curves.png
    """
    check_outputs(overwrite, out)
    from ..visualization.curves import plot_training_curves
    click.echo(f'wrote {plot_training_curves(work_dir, out, title=title)}')


@cli.command('report')
@click.argument('scores', type=click.Path(dir_okay=False))
@click.option('--out', required=True, type=click.Path(dir_okay=False),
              help='Picture to write (.png, .pdf, .svg or .jpg).')
@click.option('--title', default=None, help='Figure title (default: the scores file name).')
@overwrite_option
def report_cli(scores, out, title, overwrite):
    """Bar chart of per-joint PCKh or per-class IoU from an `evaluate ... --json` file.

    \b
    Examples:
      lip-toolkit evaluate pose --gt lip_val_set.csv --pred pred.csv --json scores.json
      lip-toolkit visualize report scores.json --out pckh.png
    """
    check_outputs(overwrite, out)
    from ..visualization.reports import plot_report
    track, path = plot_report(scores, out, title=title)
    click.echo(f'wrote {track} chart {path}')
