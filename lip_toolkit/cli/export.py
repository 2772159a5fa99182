"""``lip-toolkit export``: a checkpoint -> an ONNX file whose parity with PyTorch is checked before it is written."""
import click

from ._common import cfg_options_option, overwrite_option


@click.command('export')
@click.argument('config')
@click.argument('checkpoint', type=click.Path(dir_okay=False))
@click.option('--out', required=True, type=click.Path(dir_okay=False), help='The .onnx file to write.')
@click.option('--sample', type=click.Path(dir_okay=False), default=None,
              help='Image for the parity check (default: a synthetic LIP person).')
@click.option('--opset', type=click.IntRange(13, 20), default=None,
              help='ONNX opset.  [default: 17; 19 for a model with deformable convolution (ONNX\'s DeformConv)]')
@click.option('--tolerance', type=click.FloatRange(min=0), default=1e-3, show_default=True,
              help='Largest allowed max |ONNX Runtime - PyTorch| / max(1, max |PyTorch output|).')
@click.option('--min-agreement', type=click.FloatRange(0, 100), default=99.9, show_default=True,
              help='Smallest allowed argmax agreement, percent (pixels for parsing, joint peaks for pose).')
@click.option('--shape', type=click.IntRange(min=1), nargs=2, metavar='H W', default=None,
              help='Parsing: export with this fixed input height and width (batch stays dynamic), e.g. --shape 473 '
                   '473: every shape in the file known, runs at that size only (predict/evaluate with a config of '
                   "that input size). Pose models are always exported at their config's size.  [default: dynamic "
                   'height/width]')
@overwrite_option
@cfg_options_option
def cli(config, checkpoint, out, sample, opset, tolerance, min_agreement, shape, overwrite, cfg_options):
    """Export CONFIG with CHECKPOINT to ONNX (--out model.onnx) for ONNX Runtime.

    The file holds the network (parsing: logits, CE2P's fused output; pose: heatmaps, PoseFix with its image and
    coarse-pose inputs), dynamic batch (and height/width for parsing where the network allows), and in its
    metadata the preprocessing it expects (mean, std, channel order, input size, flip pairs, class or joint
    names); --shape H W fixes a parsing model's height and width instead (for a deployment at one size). PyTorch and ONNX Runtime are first run on the same real-looking input; beyond the tolerance nothing is
    written. Run the file with predict/evaluate --backend onnxruntime. Needs: pip install 'lip-toolkit[onnx]'.

    \b
    Examples:
      lip-toolkit export configs/parsing/ce2p/CONFIG.py ce2p.pth --out ce2p.onnx
      lip-toolkit export configs/pose/hrnet/CONFIG.py hrnet.pth --out hrnet.onnx --sample person.jpg
      lip-toolkit export configs/parsing/ce2p/CONFIG.py ce2p.pth --out ce2p-473.onnx --shape 473 473
      lip-toolkit predict configs/parsing/ce2p/CONFIG.py ce2p.onnx photos/ --out pred --backend onnxruntime
    """
    from ..deploy.export import export_model
    report = export_model(config, checkpoint, out, sample=sample, opset=opset, tolerance=tolerance,
                          min_agreement=min_agreement / 100, cfg_options=cfg_options, overwrite=overwrite,
                          shape=shape)
    parity = report['parity']
    shapes = ', '.join(f"{item['name']}[{','.join(str(v) for v in item['shape'])}]" for item in report['inputs'])
    outputs = ', '.join(f"{item['name']}[{','.join(str(v) for v in item['shape'])}]" for item in report['outputs'])
    output = 'logit' if report['track'] == 'parsing' else 'heatmap'
    click.echo(f"parity on {report['sample']} ({parity['checked']}): max |{output} diff| {parity['max_abs_diff']:.3g} "
               f"(largest |output| {parity['scale']:.3g}, allowed {parity['tolerance']:g} x that), argmax "
               f"agreement {100 * parity['argmax_agreement']:.3f} % of {parity['positions']}")
    click.echo(f"exported {report['track']} model to {report['out']} (opset {report['opset']}; {shapes} -> "
               f"{outputs}) in {report['seconds']} s")
