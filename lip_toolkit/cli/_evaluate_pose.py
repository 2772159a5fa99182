"""``lip-toolkit evaluate pose``: score a LIP pose prediction CSV against the ground truth (PCKh@0.5)."""
import click

from ._common import chart_option, check_outputs, overwrite_option, write_chart


@click.command(name='pose')
@click.option('--gt', 'gt_csv', required=True, type=click.Path(dir_okay=False),
              help='Ground-truth CSV (lip_val_set.csv format).')
@click.option('--pred', 'pred_csv', required=True, type=click.Path(dir_okay=False),
              help='Predictions: LIP submission CSV (name, then x,y for 16 joints); any row order.')
@click.option('--json', 'json_out', type=click.Path(dir_okay=False), default=None,
              help='Also write the scores (percent) to this JSON file.')
@click.option('--allow-missing', is_flag=True,
              help='Score ground-truth images without a prediction as missed instead of failing.')
@chart_option
@overwrite_option
def cli(gt_csv, pred_csv, json_out, allow_missing, chart, overwrite):
    """Score LIP pose predictions with LIP's PCKh@0.5 and print the table LIP papers print.

    Rows are matched by image name. A prediction row for an unknown image, a repeated image or (without
    --allow-missing) a ground-truth image with no prediction is an error.

    \b
    Examples:
      lip-toolkit evaluate pose --gt TrainVal_pose_annotations/lip_val_set.csv --pred pred.csv
      lip-toolkit evaluate pose --gt lip_val_set.csv --pred pred.csv --json scores.json --allow-missing
    """
    check_outputs(overwrite, json_out, chart)
    from ..pose.evaluation import evaluate_pose_files, write_pckh_json

    evaluation = evaluate_pose_files(gt_csv, pred_csv, allow_missing=allow_missing)
    click.echo(evaluation.table())
    if json_out:
        write_pckh_json(json_out, evaluation.scores)
    write_chart(evaluation.scores, chart, title='LIP PCKh@0.5')
