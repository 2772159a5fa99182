"""``lip-toolkit evaluate [model] CONFIG CHECKPOINT``: predict a split with a checkpoint and score it."""
import click

from ._common import (cfg_options_option, chart_option, check_outputs, launch_options, overwrite_option,
                      relaunch_if_requested, write_chart)


@click.command('model')
@click.argument('config')
@click.argument('checkpoint', type=click.Path(dir_okay=False))
@click.option('--flip/--no-flip', default=None,
              help='Flip test (pose: on by default; parsing: the config\'s model.test_cfg.flip, else off; with the '
                   '14/15 16/17 18/19 swap).')
@click.option('--scales', default=None, metavar='S1,S2,...', help='Parsing: test scales, e.g. 0.75,1,1.25.')
@click.option('--out', 'out', type=click.Path(), default=None,
              help='Write predictions: a LIP pose CSV (pose) or a folder of PNG label maps (parsing).')
@click.option('--input', 'input_csv', type=click.Path(dir_okay=False), default=None,
              help='PoseFix configs: the predictions CSV (LIP format) to refine.')
@click.option('--split', type=click.Choice(['val', 'train', 'test']), default='val', show_default=True)
@click.option('--data-root', type=click.Path(file_okay=False), default=None,
              help="LIP release folder (default: the config's data_root).")
@click.option('--device', default=None, help='cpu, cuda or cuda:N (default: cuda if available).')
@click.option('--json', 'json_out', type=click.Path(dir_okay=False), default=None, help='Write the scores as JSON.')
@click.option('--backend', type=click.Choice(['pytorch', 'onnxruntime']), default='pytorch', show_default=True,
              help='onnxruntime: CHECKPOINT is a .onnx file from `lip-toolkit export` (same geometry, flip, scales).')
@chart_option
@launch_options
@cfg_options_option
@overwrite_option
def cli(config, checkpoint, flip, scales, out, input_csv, split, data_root, device, json_out, backend, chart,
        cfg_options, overwrite, **launch):
    """Evaluate CONFIG with CHECKPOINT on a split; print PCKh (pose) or mIoU (parsing).

    \b
    Examples:
      lip-toolkit evaluate configs/pose/hrnet/CONFIG.py epoch_210.pth --out val_pred.csv
      lip-toolkit evaluate configs/pose/posefix/CONFIG.py posefix.pth --input val_pred.csv --out refined.csv
      lip-toolkit evaluate configs/parsing/ce2p/CONFIG.py ce2p.pth --flip --scales 0.75,1,1.25 --out pred_pngs
      lip-toolkit evaluate CONFIG CHECKPOINT --gpus 2            # shard the split over 2 processes
      lip-toolkit evaluate CONFIG model.onnx --backend onnxruntime
    """
    check_outputs(overwrite, out, json_out, chart)
    relaunch_if_requested(launch)
    from ..evaluation import evaluate_model
    result = evaluate_model(config, checkpoint, flip=flip, scales=scales, out=out, input_csv=input_csv,
                            split=split, data_root=data_root, device=device, json_out=json_out,
                            cfg_options=cfg_options, launcher=launch['launcher'], backend=backend)
    if result.get('table'):
        click.echo(result['table'])
        from ..core.launch import rank_and_world
        if rank_and_world()[0] == 0:
            write_chart(result, chart)
