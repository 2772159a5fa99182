"""``lip-toolkit demo``: the whole toolkit on built-in synthetic data, on a CPU, in a few minutes."""
import click


@click.command()
@click.option('--out', 'out_dir', type=click.Path(file_okay=False), default='demo_out', show_default=True,
              help='Folder for data, models, predictions, submissions and the report.')
@click.option('--quick', is_flag=True, help='A much smaller run (tiny data, 1-2 epochs): checks the wiring only.')
@click.option('--seed', type=int, default=0, show_default=True, help='Seed of the synthetic data.')
@click.option('--device', default='cpu', show_default=True, help='cpu or cuda.')
def cli(out_dir, quick, seed, device):
    """Synthesise LIP, train tiny pose and parsing members, ensemble, refine, submit, report.

    \b
    Steps: synthetic LIP -> 2 tiny HRNets (seeds) + tiny PoseFix, 2 tiny CE2P-OCNets -> members and ensembles scored
    on val (heatmap averaging + PoseFix; logit averaging) -> test predictions -> checked challenge files
    -> report.md with a members-vs-ensemble table and pictures.

    \b
    Examples:
      lip-toolkit demo --out demo_out
      lip-toolkit demo --quick --out /tmp/demo_check
    """
    from ..demo import DemoPlan, run_demo
    plan = DemoPlan.quick() if quick else DemoPlan()
    plan.seed = seed
    summary = run_demo(out_dir, plan=plan, device=device)
    for track in ('pose', 'parsing'):
        part = summary[track]
        click.echo(f'{track} ({part["metric"]}):')
        for name, score in part['rows']:
            click.echo(f'  {name:<34} {score:6.2f}')
        if not part['ensemble_beats_best_member']:
            click.echo('  the ensemble did not score as well as its best member on this run')
    click.echo(f'report: {summary["report"]}')
