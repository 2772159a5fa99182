"""``lip-toolkit submit``: write the challenge files (pose CSV, parsing zip) and check them."""
import click

from ._common import check_outputs, overwrite_option


class _SubmitGroup(click.Group):
    """``submit --check FILE ...`` is the ``check`` subcommand written as an option."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and '--check' in args:
            args = list(args)
            args.remove('--check')
            args.insert(0, 'check')
        return super().parse_args(ctx, args)


def _test_ids_option(func):
    return click.option('--test-ids', required=True, type=click.Path(dir_okay=False),
                        help='Testing_images/test_id.txt: the ids, in the order the file must follow.')(func)


@click.group(cls=_SubmitGroup)
def cli():
    """Write LIP challenge files and check them (every test id once, sizes, value ranges, format).

    Each file is checked before it is renamed into place: a failure leaves no file.

    \b
    Examples:
      lip-toolkit submit pose --pred test_pred.csv --test-ids Testing_images/test_id.txt --out pose.csv
      lip-toolkit submit parsing --pred-dir test_pngs --test-ids Testing_images/test_id.txt \\
          --images Testing_images/testing_images --out parsing.zip
      lip-toolkit submit --check pose.csv parsing.zip --test-ids Testing_images/test_id.txt
    """


@cli.command('pose')
@click.option('--pred', 'pred_csv', required=True, type=click.Path(dir_okay=False),
              help='Predictions of the test split in LIP CSV format (evaluate/ensemble --split test --out).')
@_test_ids_option
@click.option('--images', 'images_dir', type=click.Path(file_okay=False), default=None,
              help='Test images, to clip and check coordinates against their sizes '
                   '(default: testing_images beside test_id.txt, if present).')
@click.option('--out', required=True, type=click.Path(dir_okay=False), help='The submission CSV to write.')
@overwrite_option
def pose_command(pred_csv, test_ids, images_dir, out, overwrite):
    """Write the pose submission CSV: <id>.jpg,x0,y0,...,x15,y15 in test_id.txt order.

    \b
    Examples:
      lip-toolkit submit pose --pred test_pred.csv --test-ids Testing_images/test_id.txt --out pose_submission.csv
    """
    check_outputs(overwrite, out)
    from ..pose.submission import make_pose_submission
    report = make_pose_submission(pred_csv, test_ids, out, images_dir=images_dir)
    click.echo(report.summary())


@cli.command('parsing')
@click.option('--pred-dir', required=True, type=click.Path(file_okay=False),
              help='Folder of predicted <id>.png label maps of the test split (evaluate/ensemble --out).')
@_test_ids_option
@click.option('--images', 'images_dir', type=click.Path(file_okay=False), default=None,
              help='Test images, whose sizes the maps must have (default: testing_images beside test_id.txt).')
@click.option('--out', required=True, type=click.Path(dir_okay=False), help='The submission zip to write.')
@click.option('--paletted', is_flag=True,
              help='Paletted PNGs (indices = class ids, LIP colours) instead of 8-bit greyscale.')
@click.option('--folder', default='', metavar='NAME', help='Put the PNGs in this folder inside the zip.')
@overwrite_option
def parsing_command(pred_dir, test_ids, images_dir, out, paletted, folder, overwrite):
    """Write the parsing submission zip: one <id>.png per test image, at its size, values 0-19.

    \b
    Examples:
      lip-toolkit submit parsing --pred-dir test_pngs --test-ids Testing_images/test_id.txt \\
          --images Testing_images/testing_images --out parsing_submission.zip
    """
    check_outputs(overwrite, out)
    from ..parsing.submission import make_parsing_submission
    report = make_parsing_submission(pred_dir, test_ids, out, images_dir=images_dir, paletted=paletted,
                                     folder=folder)
    click.echo(report.summary())


@cli.command('check')
@click.argument('files', nargs=-1, required=True, type=click.Path(dir_okay=False))
@_test_ids_option
@click.option('--images', 'images_dir', type=click.Path(file_okay=False), default=None,
              help='Test images for the size checks (default: testing_images beside test_id.txt).')
@click.option('--json', 'json_out', type=click.Path(dir_okay=False), default=None,
              help='Also write the reports as JSON.')
@overwrite_option
def check_command(files, test_ids, images_dir, json_out, overwrite):
    """Check submission FILES (.csv pose, .zip parsing); exit 1 if any fails. Same as submit --check.

    \b
    Examples:
      lip-toolkit submit --check pose_submission.csv --test-ids Testing_images/test_id.txt
      lip-toolkit submit check parsing_submission.zip --test-ids test_id.txt --images testing_images
    """
    check_outputs(overwrite, json_out)
    from ..submission import check_submission
    reports = [check_submission(path, test_ids, images_dir=images_dir) for path in files]
    for report in reports:
        click.echo(report.summary())
    if json_out is not None:
        import json

        from ..core.io import atomic_write
        with atomic_write(json_out) as handle:
            json.dump([report.to_dict() for report in reports], handle, indent=2)
    if not all(report.ok for report in reports):
        raise click.exceptions.Exit(1)
