"""``lip-toolkit convert REFERENCE SRC DST``: a reference system's released weights as a toolkit checkpoint."""
import click

from ._common import cfg_options_option, check_outputs, overwrite_option

from ..convert import REFERENCES, VARIANT_NAMES  # cheap: no torch until a conversion runs


@click.command('convert')
@click.argument('reference', type=click.Choice(list(REFERENCES)))
@click.argument('src', type=click.Path(dir_okay=False))
@click.argument('dst', type=click.Path(dir_okay=False))
@click.option('--config', default=None, metavar='CONFIG',
              help='Toolkit config whose model receives the weights (default: the reference config in '
                   'configs/references/).')
@click.option('--variant', type=click.Choice(VARIANT_NAMES), default=None,
              help='hrnet-seg only: the released network. inplace-abn = master / HRNet-OCR files (InPlaceABNSync), '
                   'bn = pytorch-v1.1 file (BatchNorm). Default: told by the file (num_batches_tracked); '
                   'required where the file does not tell.')
@cfg_options_option
@overwrite_option
def cli(reference, src, dst, config, variant, cfg_options, overwrite):
    """Convert a reference system's checkpoint SRC into a toolkit checkpoint DST.

    \b
    REFERENCE    its checkpoint                               default config
    ce2p         CE2P LIP_epoch_149.pth                       configs/references/ce2p_r101_lip-473x473.py
    schp         SCHP exp-schp-201908261155-lip.pth           configs/references/schp_r101_lip-473x473.py
    hrnet-seg    HRNet-Semantic-Segmentation LIP W48          configs/references/hrnetv2-w48_lip-473x473.py
    mmpose       MMPose zoo (keypoint_head. -> head.)         configs/references/hrnet-w32_mpii-256x256_zero-shot_lip.py
    se-resnet152-imagenet  pretrainedmodels se_resnet152-d17c99b7.pth  (backbone only) SE-ResNet-152 CE2P config
    scnet101-imagenet      MCG-NKU/SCNet scnet101-44c5b751.pth         (backbone only) SCNet-101 CE2P config

    InPlaceABN layers become BN (weight |w| + 1e-5), prefixes such as module. are dropped, heads are renamed.
    HRNet-Seg released two networks: master's and the HRNet-OCR branch's LIP files ran InPlaceABNSync, the
    pytorch-v1.1 branch's ran BatchNorm; the file tells which (see --variant).
    Strict: if any key is left unmatched on either side, nothing is written and the keys are named. SRC is
    read with the safe loader (weights only); DST is written atomically.

    \b
    Examples:
      lip-toolkit convert schp exp-schp-201908261155-lip.pth schp_lip.pth
      lip-toolkit evaluate configs/references/schp_r101_lip-473x473.py schp_lip.pth --data-root LIP
      lip-toolkit convert ce2p LIP_epoch_149.pth ce2p_lip.pth
      lip-toolkit convert mmpose hrnet_w32_mpii_256x256-6c4f923f_20200812.pth hrnet_mpii.pth
      lip-toolkit convert scnet101-imagenet scnet101-44c5b751.pth scnet101_mmpose.pth
    """
    check_outputs(overwrite, dst)
    from ..convert import convert
    result = convert(reference, src, dst, config=config, cfg_options=cfg_options, variant=variant)
    filled = f", {result['filled']} BN counters set to 0" if result['filled'] else ''
    network = f" ({reference} variant {result['variant']})" if result['variant'] else ''
    click.echo(f"wrote {result['dst']} ({result['num_tensors']} tensors{filled}) for {result['config']}{network}")
