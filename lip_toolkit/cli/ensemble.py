"""``lip-toolkit ensemble``: run several checkpoints as one model over a LIP split (pose or parsing)."""
import click

from ._common import check_outputs, launch_options, overwrite_option, relaunch_if_requested


@click.command()
@click.argument('ensemble_file', required=False, metavar='[ENSEMBLE]')
@click.option('--member', 'members', multiple=True, nargs=3, metavar='CONFIG CHECKPOINT WEIGHT',
              help='A member (repeatable); added to those of ENSEMBLE.')
@click.option('--refiner', nargs=2, default=None, metavar='CONFIG CHECKPOINT',
              help="Pose: refine the ensemble's joints with this PoseFix model (replaces the file's).")
@click.option('--average', type=click.Choice(['logits', 'softmax']), default=None,
              help="Parsing: average members' logits or their softmax probabilities (default: the file's, "
                   'else logits).')
@click.option('--flip/--no-flip', default=None,
              help='Flip test for every member (default: the file\'s; else on for pose, off for parsing).')
@click.option('--scales', default=None, metavar='S1,S2,...', help='Parsing: test scales, e.g. 0.75,1,1.25.')
@click.option('--split', type=click.Choice(['val', 'train', 'test']), default='val', show_default=True)
@click.option('--data-root', type=click.Path(file_okay=False), default=None,
              help="LIP release folder (default: the first member config's data_root).")
@click.option('--out', type=click.Path(), default=None,
              help='Write predictions: a LIP pose CSV (pose) or a folder of PNG label maps (parsing).')
@click.option('--batch-size', type=click.IntRange(min=1), default=None,
              help="Images decoded once and run through every member together (default: evaluate's, pose 8, "
                   'parsing 4).')
@click.option('--device', default=None, help='cpu, cuda or cuda:N (default: cuda if available).')
@click.option('--json', 'json_out', type=click.Path(dir_okay=False), default=None,
              help='Write the scores of members and ensemble as JSON.')
@launch_options
@overwrite_option
def cli(ensemble_file, members, refiner, average, flip, scales, split, data_root, out, batch_size, device,
        json_out, overwrite, **launch):
    """Average the members of an ENSEMBLE file (or --member ...) over a split; print members vs ensemble.

    Pose: members' heatmaps (each with flip test) are averaged, decoded once, then optionally refined by
    PoseFix. Parsing: logits or softmax probabilities (each member with flip and scales) are averaged at each
    image's original size. With labels (val) each member's score is printed beside the ensemble's, from
    the same pass.

    \b
    Examples:
      lip-toolkit ensemble ensembles/pose_hrnet-w32-mspn-posefix_lip-trainval-coco-aic-512x384.py --out val.csv
      lip-toolkit ensemble ensembles/parsing_ce2p-hrnet_softmax_lip-trainval-mhp-576x576.py --split test \\
          --out test_pngs
      lip-toolkit ensemble --member CONFIG_A a.pth 1 --member CONFIG_B b.pth 0.5 --average softmax --flip
      lip-toolkit ensemble ENSEMBLE --gpus 2                   # shard the split over 2 processes
    """
    check_outputs(overwrite, out, json_out)
    relaunch_if_requested(launch)
    from ..core.launch import rank_and_world
    from ..ensemble import run_ensemble
    result = run_ensemble(ensemble_file, members=[tuple(m) for m in members], refiner=refiner, split=split,
                          data_root=data_root, out=out, device=device, batch_size=batch_size, average=average,
                          flip=flip, scales=scales, json_out=json_out, launcher=launch['launcher'])
    if rank_and_world()[0] != 0:
        return
    if result.get('table'):
        click.echo(result['table'])
    if out is not None:
        click.echo(f"{result['num_images']} predictions written to {out}")
