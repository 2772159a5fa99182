"""FLOPs and parameters of a config's model, with mmengine's analysis tools, as MMPose's and MMSeg's
``tools/analysis_tools/get_flops.py`` count them.

FLOPs are mmengine's ``FlopAnalyzer`` count (fvcore's rules), for one image through the network (the models'
``_forward``: backbone, neck, head; no flip test, no decoding, no loss): one per multiply-add of convolutions,
linear layers and matrix products, 2 per element of a test-time batch norm (1 without scale and shift), 1 per
output element of nearest upsampling and 4 of bilinear; activations and additions are not counted.
``tests/tools/test_get_flops.py`` recounts the tiny HRNet by hand with these rules and gets the same number.
Parameters are every element of every parameter tensor.
"""
import contextlib
import logging
import warnings
from typing import Optional, Sequence, Tuple

from ..core.errors import LipToolkitError


@contextlib.contextmanager
def _host_notes_hidden():
    """The analyzers log every operator they do not count (the activation count, which the table shows, skips
    batch norm and upsampling), the tracer warns about Python control flow and MMSeg about deprecated builders:
    nothing about the user's model."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            yield
    finally:
        logger.setLevel(level)


def default_input_shape(cfg) -> Optional[Tuple[int, int]]:
    """``(height, width)`` the config's model sees: pose ``codec.input_size`` (width, height), parsing
    ``crop_size`` (height, width, MMSeg's order); None when the config names neither."""
    codec = cfg.get('codec')
    if isinstance(codec, dict) and codec.get('input_size') is not None:
        width, height = codec['input_size']
        return int(height), int(width)
    if cfg.get('crop_size') is not None:
        height, width = cfg['crop_size']
        return int(height), int(width)
    return None


def get_flops(config, shape: Optional[Sequence[int]] = None, cfg_options: Optional[dict] = None) -> dict:
    """Count the FLOPs and parameters of ``config``'s model for one ``3 x H x W`` input.

    Args:
        config: config path (or a path under ``configs/``).
        shape: ``(H, W)`` (or one number for a square); default :func:`default_input_shape`.
        cfg_options: config overrides.

    Returns:
        ``{'track', 'shape': (H, W), 'flops', 'params', 'flops_str', 'params_str', 'table'}`` (``table`` is
        mmengine's per-module table of parameters and FLOPs).
    """
    import torch
    from mmengine.analysis import get_model_complexity_info

    from ..core.runner import config_track, load_config
    cfg = load_config(config, cfg_options)
    track = config_track(cfg, config)
    if shape is None:
        shape = default_input_shape(cfg)
        if shape is None:
            raise LipToolkitError('the config names no input size (codec.input_size or crop_size): give --shape H W',
                                  config)
    shape = tuple(int(v) for v in shape)
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) != 2 or min(shape) < 1:
        raise LipToolkitError(f'--shape takes H W (or one size), got {shape}')
    if track == 'pose':
        from ..pose.inference import build_pose_model as build
    else:
        from ..parsing.inference import build_parsing_model as build
    with _host_notes_hidden():
        model = build(cfg, None, 'cpu')
        # The network alone, as the host tools count it: MMPose's and MMSeg's models run it in `_forward`
        # (`forward` also wants data samples and a mode).
        model.forward = model._forward
        try:
            with torch.no_grad():
                info = get_model_complexity_info(model, inputs=(torch.zeros(1, 3, *shape), ), show_table=True,
                                                 show_arch=False)
        except RuntimeError as exc:  # a size the network cannot take (branches that no longer line up)
            raise LipToolkitError(f'the model does not run on a {shape[0]} x {shape[1]} input '
                                  f'({str(exc).splitlines()[0][:120]}); multiples of 32 usually work',
                                  config) from None
    return dict(track=track, shape=shape, flops=int(info['flops']), params=int(info['params']),
                flops_str=info['flops_str'], params_str=info['params_str'], table=info['out_table'].strip())
