"""``lip-toolkit get-flops``: FLOPs and parameters of a config's model (``tools/analysis_tools/get_flops.py``)."""
import click

from ._common import cfg_options_option


@click.command('get-flops')
@click.argument('config')
@click.option('--shape', type=click.IntRange(min=1), nargs=2, metavar='H W', default=None,
              help="Input height and width, e.g. --shape 256 192 (MMSeg's spelling). Default: the config's input "
                   'size (pose codec.input_size, parsing crop_size).')
@click.option('--table', is_flag=True, help='Also print the per-module table (parameters, FLOPs, activations).')
@cfg_options_option
def cli(config, shape, table, cfg_options):
    """Count the FLOPs and parameters of CONFIG's model for one image, with mmengine's analysis tools.

    One multiply-add counts as one FLOP (fvcore's rules, as MMPose and MMSeg report them; batch norm and upsampling
    are counted too, activations and additions not). No weights are needed.

    \b
    Examples:
      lip-toolkit get-flops configs/demo/pose_hrnet-tiny_lip-128x96.py
      lip-toolkit get-flops configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py --shape 480 480 --table
    """
    from ..tools.get_flops import get_flops
    result = get_flops(config, shape=shape or None, cfg_options=cfg_options)
    if table:
        click.echo(result['table'])
    height, width = result['shape']
    click.echo(f"input shape: 3 x {height} x {width}\nflops: {result['flops_str']}\nparams: {result['params_str']}")
