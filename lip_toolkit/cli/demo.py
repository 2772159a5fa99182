"""``lip-toolkit demo``: the whole toolkit on built-in synthetic data, on a CPU, in a few minutes."""
import click

from ._common import overwrite_option


@click.command()
@click.option('--out', 'out_dir', type=click.Path(file_okay=False), default='demo_out', show_default=True,
              help='Folder for data, models, predictions, submissions and the report.')
@click.option('--photos', type=click.Path(exists=True), default=None,
              help='Also predict these images (a folder or one file) with both ensembles and draw them in the '
                   'report.')
@click.option('--quick', is_flag=True, help='A much smaller run (tiny data, 1-2 epochs): checks the wiring only.')
@click.option('--seed', type=int, default=0, show_default=True, help='Seed of the synthetic data.')
@click.option('--workers', type=click.IntRange(min=1), default=None,
              help='Models trained at once, one process each (default: one per CPU core, at most 2).')
@click.option('--device', default='cpu', show_default=True, help='cpu or cuda.')
@overwrite_option
def cli(out_dir, photos, quick, seed, workers, device, overwrite):
    """Synthesise LIP, train tiny pose and parsing members, ensemble, refine, submit, report.

    \b
    Steps: synthetic LIP -> 2 tiny HRNets (seeds) + tiny PoseFix, 2 tiny CE2P-OCNets, trained in parallel ->
    members, ensembles and a no-model reference scored on val (heatmap averaging + PoseFix; logit averaging)
    -> test predictions -> checked challenge files -> report.md: scores table, learning curves, pictures.

    \b
    Examples:
      lip-toolkit demo --out demo_out
      lip-toolkit demo --out demo_out --overwrite --photos my_photos/
      lip-toolkit demo --quick --out /tmp/demo_check
    """
    from ..demo import DemoPlan, run_demo
    plan = DemoPlan.quick() if quick else DemoPlan()
    plan.seed, plan.workers, plan.photos = seed, workers, photos
    summary = run_demo(out_dir, plan=plan, device=device, overwrite=overwrite)
    for track in ('pose', 'parsing'):
        part = summary[track]
        click.echo(f'{track} ({part["metric"]} on val):')
        for row in part['rows']:
            click.echo(f'  {row["kind"]:<9} {row["name"]:<34} {row["score"]:6.2f}')
        if not part['checks']['members_beat_reference']:
            click.echo('  a model did not beat the no-model reference on this run')
        for name, ok in part['checks']['ensembles_not_worse_than_best_member'].items():
            if not ok:
                click.echo(f'  {name} did not score as well as the best member on this run')
    click.echo(f'report: {summary["report"]} ({summary["seconds"]:.0f} s)')
