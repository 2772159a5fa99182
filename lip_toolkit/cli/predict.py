"""``lip-toolkit predict``: run a pose or parsing model on your own images."""
import click

from ._common import overwrite_option


@click.command('predict')
@click.argument('arguments', nargs=-1, required=True, metavar='[CONFIG CHECKPOINT] INPUTS...')
@click.option('--ensemble', 'ensemble_file', type=click.Path(dir_okay=False), default=None,
              help='An ensemble file (configs/ensembles/*.py) instead of CONFIG CHECKPOINT.')
@click.option('--out', 'out_dir', required=True, type=click.Path(file_okay=False),
              help='Output folder: keypoints.csv + keypoints/*.json (pose) or parsing/*.png, and overlays/.')
@click.option('--device', default=None, help='cpu, cuda or cuda:N (default: cuda if available).')
@click.option('--flip/--no-flip', default=None,
              help='Flip test (pose: on by default; parsing: off by default, with the left/right label swap).')
@click.option('--scales', default=None, metavar='S1,S2,...', help='Parsing: test scales, e.g. 0.75,1,1.25.')
@click.option('--batch-size', type=click.IntRange(min=1), default=4, show_default=True,
              help='Images per forward pass.')
@click.option('--no-overlays', is_flag=True, help='Do not draw overlays/<name>.png pictures.')
@click.option('--kpt-thr', type=click.FloatRange(min=0), default=0.3, show_default=True,
              help='Pose overlays: joints scoring below this are not drawn, nor their limbs (JSON/CSV keep all).')
@click.option('--on-error', type=click.Choice(['stop', 'skip']), default='stop', show_default=True,
              help='An unreadable image: stop with its error, or leave it out and list it at the end.')
@click.option('--backend', type=click.Choice(['pytorch', 'onnxruntime']), default='pytorch', show_default=True,
              help='onnxruntime: CHECKPOINT is a .onnx file from `lip-toolkit export` (same geometry, flip, scales).')
@click.option('--cfg-options', 'cfg_options', multiple=True, metavar='KEY=VALUE',
              help='Override config values (repeatable), e.g. --cfg-options model.test_cfg.flip_test=False.')
@overwrite_option
def cli(arguments, ensemble_file, out_dir, device, flip, scales, batch_size, no_overlays, kpt_thr, on_error,
        backend, cfg_options, overwrite):
    """Predict images or folders of images (JPEG, PNG with or without alpha, greyscale, 16-bit, any size)
    with CONFIG and CHECKPOINT, or with the models of an --ensemble file.

    Each image is taken as one person filling the picture, as in LIP. The config decides the track: a pose
    model writes joints (keypoints/<name>.json with confidences, and keypoints.csv in the LIP format), a parsing
    model writes label maps (parsing/<name>.png, pixel = class id); both draw overlays/<name>.png.

    \b
    Examples:
      lip-toolkit predict configs/pose/hrnet/CONFIG.py hrnet.pth photos/ --out pred_pose
      lip-toolkit predict configs/parsing/ce2p/CONFIG.py ce2p.pth a.jpg b.png --out pred_parsing --flip
      lip-toolkit predict CONFIG CHECKPOINT photos/ --out pred --device cpu --no-overlays
      lip-toolkit predict CONFIG CHECKPOINT photos/ --out pred --on-error skip --kpt-thr 0.5
      lip-toolkit predict --ensemble configs/ensembles/FILE.py photos/ --out pred_ensemble
      lip-toolkit predict CONFIG model.onnx photos/ --out pred --backend onnxruntime
    """
    if ensemble_file is not None:
        config = checkpoint = None
        inputs = arguments
    elif len(arguments) < 3:
        raise click.UsageError('expected CONFIG CHECKPOINT and at least one image or folder (or --ensemble FILE '
                               'and images)')
    else:
        config, checkpoint, inputs = arguments[0], arguments[1], arguments[2:]
    from ..core.runner import parse_cfg_options
    from ..evaluation import parse_scales
    from ..predict import predict
    cfg_options = parse_cfg_options(cfg_options) if cfg_options else None
    result = predict(inputs, out_dir, config=config, checkpoint=checkpoint, ensemble=ensemble_file,
                     device=device, flip=flip, scales=parse_scales(scales), batch_size=batch_size,
                     overlays=not no_overlays, cfg_options=cfg_options, on_error=on_error, kpt_thr=kpt_thr,
                     backend=backend, overwrite=overwrite)
    what = 'keypoints' if result['track'] == 'pose' else 'label maps'
    click.echo(f"predicted {what} for {result['num_images']} image(s) in {result['out_dir']}")
    skipped = result['skipped']
    if skipped:
        click.echo(f'skipped {len(skipped)} unreadable image(s):', err=True)
        for entry in skipped[:20]:
            click.echo(f"  {entry['error']}", err=True)
        if len(skipped) > 20:
            click.echo(f'  ... and {len(skipped) - 20} more', err=True)
