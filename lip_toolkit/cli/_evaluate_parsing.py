"""``lip-toolkit evaluate parsing``: score predicted parsing PNGs against LIP ground truth (mIoU)."""
import click

from ._common import chart_option, check_outputs, overwrite_option, write_chart


@click.command(name='parsing')
@click.option('--gt-dir', required=True, type=click.Path(file_okay=False),
              help='Ground-truth label PNGs (e.g. TrainVal_parsing_annotations/val_segmentations).')
@click.option('--pred-dir', required=True, type=click.Path(file_okay=False),
              help='Predicted label PNGs, <id>.png, 8-bit grey or paletted (the index is read, never the colour).')
@click.option('--ids', 'ids_file', type=click.Path(dir_okay=False),
              help='Id list to score, one per line (e.g. val_id.txt). Default: every PNG in --gt-dir.')
@click.option('--json', 'json_path', type=click.Path(dir_okay=False),
              help='Also write {"mIoU", "pixel_acc", "mean_acc", "IoU": {class: value}} (percent) here.')
@click.option('--workers', type=click.IntRange(min=1), default=None,
              help='Decoding processes. Default: all available CPUs.')
@click.option('--on-error', type=click.Choice(['stop', 'skip']), default='stop', show_default=True,
              help='A bad or missing prediction: stop with its error, or leave the image out and list it.')
@chart_option
@overwrite_option
def cli(gt_dir, pred_dir, ids_file, json_path, workers, on_error, chart, overwrite):
    """Score parsing predictions with the LIP formula: one confusion matrix over the split, GT 255 ignored.

    Each prediction must have its ground truth's size and hold class ids 0-19. Prints per-class IoU, mIoU,
    pixel accuracy and mean accuracy, in percent.

    \b
    Examples:
      lip-toolkit evaluate parsing --gt-dir LIP/TrainVal_parsing_annotations/val_segmentations \\
          --pred-dir work_dirs/ce2p/val_pred --ids LIP/TrainVal_images/val_id.txt --json scores.json
      lip-toolkit evaluate parsing --gt-dir val_segmentations --pred-dir pred_pngs
    """
    check_outputs(overwrite, json_path, chart)
    from ..parsing.evaluation import evaluate_parsing_dirs, format_miou_table
    scores = evaluate_parsing_dirs(gt_dir, pred_dir, ids_file=ids_file, workers=workers, json_path=json_path,
                                   on_error=on_error)
    click.echo(format_miou_table(scores))
    if scores.get('num_skipped'):
        click.echo(f"skipped {scores['num_skipped']} of {scores['num_images']} images; the scores cover the "
                   'others:', err=True)
        for entry in scores['skipped'][:20]:
            click.echo(f"  {entry['error']}", err=True)
        if scores['num_skipped'] > 20:
            click.echo(f"  ... and {scores['num_skipped'] - 20} more (all in --json)", err=True)
    write_chart(scores, chart, title='LIP mIoU')
    if json_path:
        click.echo(f'scores written to {json_path}', err=True)
