"""``lip-toolkit export``: a pose or parsing checkpoint -> one ONNX file, its parity with PyTorch proven first.

What is exported is the *network* call the predictors make, nothing around it:

* parsing: :class:`~lip_toolkit.parsing.inference.SegmentorNetwork`, normalised images (B, 3, H, W) -> class
  logits at (H, W) (CE2P: the fused output, as MMSeg's ``inference`` gives it); batch, height and width dynamic
  where the network's shapes follow its input (checked, see below);
* pose: :func:`~lip_toolkit.pose.inference.network_outputs`, a normalised crop -> heatmaps (MSPN: the last
  stage's; PoseFix: ``coords`` and ``heatmaps``, with the coarse pose rendered as maps for its second input
  ``coarse_pose_maps``); batch dynamic.

Resizing, flip test, scales and decoding stay in the predictors, for both backends. The preprocessing the network
expects is written into the file's metadata (:mod:`lip_toolkit.deploy.metadata`).

The parity check runs the real test-time input of a real-looking picture (a synthetic LIP person, or ``sample``)
through PyTorch and ONNX Runtime: that image and its mirror (a batch of 2 where the trace saw 1), and, for
parsing, the image at scale 0.75 (another size). The largest difference must stay within ``tolerance`` times the
outputs' scale (``max(1, max |output|)``) and the argmax (class per pixel, heatmap peak per joint) must agree on
at least ``min_agreement`` of the positions; otherwise nothing is written. When only the other size fails, the
network's shapes do not follow its input (MMSeg's HRNet up-samples by fixed factors): it is exported again with
a fixed height and width; so is one whose ops the exporter translates only at a known size (the adaptive pooling
of CE2P's PSP context).

``shape=(height, width)`` (``--shape H W``) exports a parsing model at that fixed size by the same static path: the
network is traced and checked at that size only, batch still dynamic, and the metadata's ``input_size`` is that
size. ONNX Runtime then knows every shape in the graph (on CPU that measured no consistent speed gain:
docs/deploy.md); the file runs only at that size. Pose models are always exported at their config's input size; another ``shape`` is refused.

Deformable convolution: the toolkit's ``DCNv2TV`` layer (torchvision's ``deform_conv2d``) is written as ONNX's
``DeformConv`` (offsets, mask and bias: DCNv2), which exists from opset 19, so such a model is exported at opset
19 unless told otherwise, and refused in one line at an older opset. mmcv's own deformable layers export as mmcv
custom ops that ONNX Runtime does not run: refused in one line.
"""
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import LipToolkitError

DEFAULT_OPSET = 17
DEFORM_CONV_OPSET = 19  # the first opset with ONNX's DeformConv
DEFAULT_TOLERANCE = 1e-3
DEFAULT_MIN_AGREEMENT = 0.999
OTHER_SCALE = 0.75  # the second input size of the parsing parity check (a common multi-scale test scale)


def synthetic_sample(seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """A synthetic LIP person: BGR image (H, W, 3) uint8 and its 16 joints (x, y) in pixels, ``nan`` = unlabelled."""
    from ..synthetic.render import render_sample
    sample = render_sample(np.random.default_rng(seed))
    joints = sample.keypoints[:, :2].astype(np.float64) - 1.0  # the sample's rows are 1-based
    joints[sample.keypoints[:, 0] < 0] = np.nan
    return np.ascontiguousarray(sample.image[:, :, ::-1]), joints


def standing_pose(height: int, width: int) -> np.ndarray:
    """A frontal standing pose filling an image (the coarse pose PoseFix refines on a user's ``--sample``)."""
    # LIP order: R ankle, knee, hip, L hip, knee, ankle, pelvis, thorax, neck, head, R wrist, elbow, shoulder,
    # L shoulder, elbow, wrist. The person's right is on the image's left.
    fractions = [(0.40, 0.95), (0.41, 0.75), (0.43, 0.55), (0.57, 0.55), (0.59, 0.75), (0.60, 0.95),
                 (0.50, 0.55), (0.50, 0.30), (0.50, 0.22), (0.50, 0.08), (0.30, 0.55), (0.33, 0.42),
                 (0.37, 0.25), (0.63, 0.25), (0.67, 0.42), (0.70, 0.55)]
    return np.array([(x * width, y * height) for x, y in fractions])


def refuse_unexportable(model, source) -> None:
    """One line, before any export, for layers ONNX Runtime has no kernel for (mmcv's deformable convolutions)."""
    from ..parsing.models.deform_conv import ModulatedDeformConv2dTV
    for module in model.modules():
        name = type(module).__name__
        if 'DeformConv' in name and not isinstance(module, ModulatedDeformConv2dTV):
            raise LipToolkitError(f"the model uses mmcv's deformable convolution ({name}), which exports as an mmcv "
                                  "custom op that ONNX Runtime does not run: build the layer as type='DCNv2TV' (the "
                                  'same layer and weights on torchvision\'s op) to export it; nothing written', source)


def uses_deform_conv(model) -> bool:
    """The model has the toolkit's deformable convolution (``DCNv2TV``), exported as ONNX's ``DeformConv``."""
    from ..parsing.models.deform_conv import ModulatedDeformConv2dTV
    return any(isinstance(module, ModulatedDeformConv2dTV) for module in model.modules())


def choose_opset(model, opset: Optional[int], source) -> int:
    """``opset``, or the default for this model; a deformable model at an opset without DeformConv is refused."""
    deformable = uses_deform_conv(model)
    if opset is None:
        return DEFORM_CONV_OPSET if deformable else DEFAULT_OPSET
    if deformable and opset < DEFORM_CONV_OPSET:
        raise LipToolkitError(f'the model uses deformable convolution, which ONNX has as DeformConv from opset '
                              f'{DEFORM_CONV_OPSET}: export it with --opset {DEFORM_CONV_OPSET} or later, or without '
                              f'--opset (not {opset}); nothing written', source)
    return opset


def export_model(config, checkpoint, out, sample=None, opset: Optional[int] = None,
                 tolerance: float = DEFAULT_TOLERANCE, min_agreement: float = DEFAULT_MIN_AGREEMENT,
                 cfg_options: Optional[dict] = None, overwrite: bool = False,
                 shape: Optional[Sequence[int]] = None) -> Dict:
    """Export ``config`` + ``checkpoint`` to ``out`` (ONNX), refusing to write it unless ONNX Runtime agrees.

    Args:
        config: pose or parsing config (path, or path under ``configs/``).
        checkpoint: its weights.
        out: the ``.onnx`` file to write (replaced only by a checked export).
        sample: image for the parity check; default a synthetic LIP person.
        opset: ONNX opset; default 17, or 19 for a model with deformable convolution (ONNX's ``DeformConv``).
        tolerance: largest allowed ``max |ONNX Runtime - PyTorch| / max(1, max |PyTorch|)``.
        min_agreement: smallest allowed argmax agreement (fraction).
        cfg_options: config overrides.
        overwrite: replace an existing ``out`` (only once the new export has passed its check).
        shape: ``(height, width)``: a parsing model is exported (and checked) with this fixed input size instead of
            a dynamic one, and the size is recorded as its ``input_size``; pose: must be the config's input size.

    Returns:
        ``{'out', 'track', 'opset', 'inputs', 'outputs', 'dynamic_hw', 'parity': {...}, 'seconds', 'sample'}``.
    """
    started = time.perf_counter()
    require_export_tools()
    from ..core.image_io import read_image_bgr
    from ..core.io import check_output
    from ..core.runner import config_track, load_config
    from .metadata import FORMAT_VERSION, config_facts
    cfg = load_config(config, cfg_options)
    track = config_track(cfg, config)
    metadata = config_facts(cfg, track)
    shape = _checked_shape(shape, track, metadata['input_size'], config)
    out = Path(out)
    if out.suffix.lower() != '.onnx':
        raise LipToolkitError('the output must be a .onnx file', out)
    if not out.parent.is_dir():
        raise LipToolkitError('output folder not found', out.parent)
    check_output(out, overwrite)
    if checkpoint is not None and not Path(checkpoint).is_file():
        raise LipToolkitError('checkpoint not found', checkpoint)
    if sample is not None:
        image, joints, sample_name = read_image_bgr(sample), None, str(sample)
    else:
        (image, joints), sample_name = synthetic_sample(), 'a synthetic LIP person'

    if track == 'parsing':
        spec = _parsing_spec(cfg, checkpoint, config, image, shape)
    else:
        spec = _pose_spec(cfg, checkpoint, config, image, joints)
    opset = choose_opset(spec['module'], opset, config)
    metadata.update(lip_toolkit_format=FORMAT_VERSION, config=Path(str(config)).name, opset=opset,
                    **spec.pop('metadata'))

    fd, tmp_name = tempfile.mkstemp(prefix=f'.{out.name}.', suffix='.partial', dir=out.parent)
    os.close(fd)
    try:
        dynamic_hw = spec['dynamic_hw']
        try:
            _export(spec, tmp_name, opset, dynamic_hw)
        except LipToolkitError:
            if not dynamic_hw:
                raise
            # an op the exporter translates only at a known size (PSP's adaptive pooling): fix the size
            dynamic_hw = False
            _export(spec, tmp_name, opset, dynamic_hw)
        parity = _parity(spec, tmp_name, dynamic_hw)
        if dynamic_hw and _within(parity['same_size'], tolerance, min_agreement) and \
                not _within(parity['other_size'], tolerance, min_agreement):
            dynamic_hw = False  # the network's shapes do not follow its input: fix them
            _export(spec, tmp_name, opset, dynamic_hw)
            parity = _parity(spec, tmp_name, dynamic_hw)
        checked = [parity['same_size']] + ([parity['other_size']] if dynamic_hw else [])
        figures = _combine(checked)
        report = dict(out=str(out), track=track, opset=opset, sample=sample_name, dynamic_hw=dynamic_hw,
                      inputs=_shapes(spec['input_names'], spec['trace'], spec, dynamic_hw),
                      outputs=_shapes(spec['output_names'], parity['same_size'].pop('outputs', ()), spec,
                                      dynamic_hw),
                      parity=dict(figures, tolerance=tolerance, min_agreement=min_agreement,
                                  checked=_checked_description(spec, dynamic_hw)))
        if not _within(figures, tolerance, min_agreement):
            if figures.get('error'):
                raise LipToolkitError(f"ONNX Runtime cannot run the export: {figures['error']}; nothing written", out)
            raise LipToolkitError(
                f"ONNX Runtime disagrees with PyTorch beyond the tolerance: max |diff| {figures['max_abs_diff']:.3g} "
                f"(allowed {tolerance:g} x {figures['scale']:.3g}), argmax agreement "
                f"{100 * figures['argmax_agreement']:.3f} % (needed {100 * min_agreement:g} %); nothing written",
                out)
        metadata.update(inputs=report['inputs'], outputs=report['outputs'], dynamic_hw=dynamic_hw,
                        parity=report['parity'])
        _write_metadata(tmp_name, metadata)
        os.replace(tmp_name, out)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)
    report['seconds'] = round(time.perf_counter() - started, 1)
    return report


def require_export_tools() -> None:
    from .runtime import require
    require('onnx', 'export')
    require('onnxruntime', "export's parity check")


def _checked_shape(shape, track: str, config_size, source) -> Optional[Tuple[int, int]]:
    """``shape`` as ``(height, width)`` of positive ints, ``None`` when not given; for pose, the config's size only."""
    if shape is None:
        return None
    values = tuple(shape)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                                   for v in values):
        raise LipToolkitError(f'--shape takes a height and a width, whole numbers of at least 1, got '
                              f"{' '.join(str(v) for v in values)}; nothing written")
    values = (int(values[0]), int(values[1]))
    if track == 'pose' and list(values) != list(config_size):
        raise LipToolkitError(f'pose models are exported at their config\'s input size, {config_size[0]}x'
                              f'{config_size[1]} (already fixed): --shape {values[0]} {values[1]} applies to parsing '
                              'models only; nothing written', source)
    return values


# --------------------------------------------------------------------------------------------- per track
def _parsing_spec(cfg, checkpoint, source, image, shape: Optional[Tuple[int, int]] = None) -> Dict:
    """The network, its inputs for tracing and for the parity check, and the metadata of a parsing model; with
    ``shape``, the test-time input at that fixed size."""
    from ..parsing.inference import ParsingLogitPredictor
    size = {} if shape is None else dict(input_size=shape)
    predictor = ParsingLogitPredictor.from_config(cfg, checkpoint, device='cpu', **size)
    refuse_unexportable(predictor.model, source)
    mirror = np.ascontiguousarray(image[:, ::-1])
    same = predictor.network_inputs([image, mirror])
    other = None if shape is not None else (predictor.network_inputs([image], scale=OTHER_SCALE),)
    return dict(network=predictor.network, module=predictor.model, input_names=['image'],
                output_names=['logits'], trace=(same[:1],), same_size=(same,), other_size=other,
                dynamic_hw=shape is None, argmax_output='logits', argmax_kind='class',
                metadata={} if shape is None else dict(input_size=list(shape)))


def _pose_spec(cfg, checkpoint, source, image, joints) -> Dict:
    import torch

    from ..pose.inference import PoseHeatmapPredictor, head_output_kind, network_outputs
    predictor = PoseHeatmapPredictor.from_config(cfg, checkpoint, flip=False, device='cpu')
    model = predictor.model
    refuse_unexportable(model, source)
    mirror = np.ascontiguousarray(image[:, ::-1])
    metadata = {}
    with torch.no_grad():
        if predictor.is_posefix:
            coarse = joints if joints is not None else standing_pose(*image.shape[:2])
            data = predictor.model_inputs([image, mirror], coarse_keypoints=np.stack([coarse, coarse]))
            inputs = model._with_pose_maps(data['inputs'], data['data_samples'])
            channels = [inputs.shape[1] - len(coarse), len(coarse)]
            input_names = ['image', 'coarse_pose_maps']
            metadata.update(coarse_pose_sigma=float(model.coarse_pose_sigma),
                            coarse_pose_peak=float(model.coarse_pose_peak),
                            coarse_pose_maps='one map per joint in input pixels: peak * exp(-((x - jx)^2 + '
                                             '(y - jy)^2) / (2 sigma^2)), all zero for a missing joint')
        else:
            inputs = predictor.model_inputs([image, mirror])['inputs']
            channels, input_names = [inputs.shape[1]], ['image']
        kind = head_output_kind(model, inputs[:1])
    parts = tuple(torch.split(inputs, channels, dim=1))
    output_names = ['coords', 'heatmaps'] if kind == 'tuple' else ['heatmaps']
    metadata.update(head_output=kind, head=model.head.__class__.__name__,
                    codec=_plain(model.cfg.model.head.get('decoder')))
    return dict(network=lambda *xs: network_outputs(model, torch.cat(xs, dim=1)), module=model,
                input_names=input_names, output_names=output_names, trace=tuple(p[:1] for p in parts),
                same_size=parts, other_size=None, dynamic_hw=False, argmax_output='heatmaps',
                argmax_kind='peak', metadata=metadata)


def _plain(value):
    """A config value as plain JSON-able data (mmengine ConfigDicts, tuples)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------- export
def _traceable(network, module):
    """An ``nn.Module`` around the network call (torch.onnx traces modules); ``module`` holds the weights."""
    import torch

    class Network(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = module

        def forward(self, *inputs):
            return network(*inputs)

    return Network().eval()


def _dynamic_axes(spec, dynamic_hw: bool) -> Dict[str, Dict[int, str]]:
    axes = {0: 'batch', 2: 'height', 3: 'width'} if dynamic_hw else {0: 'batch'}
    return {name: dict(axes) for name in spec['input_names']} | {
        name: ({0: 'batch'} if name == 'coords' else dict(axes)) for name in spec['output_names']}


def _export(spec, path: str, opset: int, dynamic_hw: bool) -> None:
    import torch
    if uses_deform_conv(spec['module']):
        _register_deform_conv()
    with warnings.catch_warnings():
        # the legacy (TorchScript) exporter's deprecation notice and the tracer's notes on Python values
        warnings.simplefilter('ignore')
        try:
            torch.onnx.export(_traceable(spec['network'], spec['module']), spec['trace'], path, dynamo=False,
                              opset_version=opset, input_names=spec['input_names'],
                              output_names=spec['output_names'], dynamic_axes=_dynamic_axes(spec, dynamic_hw))
        except Exception as exc:  # an op the exporter cannot translate: one line, nothing written
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LipToolkitError(f'torch.onnx could not export the network: {message}') from None


def _register_deform_conv() -> None:
    """Let the exporter write torchvision's ``deform_conv2d`` as ONNX's ``DeformConv`` (opset 19 and later)."""
    import torch
    import torchvision.ops  # noqa: F401  its first import calls torch ops, which must not happen inside a trace
    from torch.onnx import symbolic_helper

    # torchvision::deform_conv2d(input, weight, offset, mask, bias, stride_h, stride_w, pad_h, pad_w, dilation_h,
    # dilation_w, groups, offset_groups, use_mask): tensors, then constant ints and a bool
    symbolic = symbolic_helper.parse_args(*'vvvvv', *'iiiiiiii', 'b')(_deform_conv2d_symbolic)
    torch.onnx.register_custom_op_symbolic('torchvision::deform_conv2d', symbolic, DEFORM_CONV_OPSET)


def _deform_conv2d_symbolic(g, x, weight, offset, mask, bias, stride_h, stride_w, pad_h, pad_w, dilation_h,
                            dilation_w, groups, offset_groups, use_mask):
    """``torchvision::deform_conv2d`` -> ``DeformConv``: both read offsets as (y, x) per kernel tap and offset
    group, and the mask (DCNv2's modulation) as one value per tap and offset group."""
    inputs = [x, weight, offset, bias] + ([mask] if use_mask else [])
    return g.op('DeformConv', *inputs, strides_i=[stride_h, stride_w], pads_i=[pad_h, pad_w, pad_h, pad_w],
                dilations_i=[dilation_h, dilation_w], group_i=groups, offset_group_i=offset_groups)


def _write_metadata(path: str, metadata: Dict) -> None:
    import onnx

    from .metadata import encode
    model = onnx.load(path)
    del model.metadata_props[:]
    for key, value in encode(metadata).items():
        model.metadata_props.add(key=key, value=value)
    model.producer_name = 'lip-toolkit'
    onnx.checker.check_model(model)
    onnx.save(model, path)


# --------------------------------------------------------------------------------------------- parity
def _parity(spec, path: str, dynamic_hw: bool) -> Dict:
    from .runtime import OnnxRuntimeNetwork
    runtime = OnnxRuntimeNetwork(path)
    figures = dict(same_size=_compare(spec, runtime, spec['same_size']))
    if dynamic_hw:
        figures['other_size'] = _compare(spec, runtime, spec['other_size'])
    return figures


def _compare(spec, runtime, inputs) -> Dict:
    import torch
    with torch.no_grad():
        expected = spec['network'](*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    expected = [t.float().numpy() for t in expected]
    try:
        got = runtime.run(*(t.numpy() for t in inputs))
    except Exception as exc:  # a size the exported graph cannot take (fixed shapes inside)
        return dict(max_abs_diff=float('inf'), scale=1.0, argmax_agreement=0.0, positions=0,
                    error=str(exc).splitlines()[0])
    if any(a.shape != b.shape for a, b in zip(expected, got)):
        return dict(max_abs_diff=float('inf'), scale=1.0, argmax_agreement=0.0, positions=0, error='shape')
    diff = max(float(np.abs(a - b).max()) for a, b in zip(expected, got))
    outputs = [a[:1] for a in expected]  # their shapes, for the report
    scale = max([1.0] + [float(np.abs(a).max()) for a in expected])
    index = spec['output_names'].index(spec['argmax_output'])
    agree, positions = _argmax_agreement(expected[index], got[index], spec['argmax_kind'])
    return dict(max_abs_diff=diff, scale=scale, argmax_agreement=agree / positions, positions=positions,
                outputs=outputs)


def _argmax_agreement(expected: np.ndarray, got: np.ndarray, kind: str) -> Tuple[int, int]:
    """Positions whose argmax agrees: per pixel over classes (``'class'``), or per joint map's peak (``'peak'``)."""
    if kind == 'class':
        same = expected.argmax(axis=1) == got.argmax(axis=1)
    else:
        batch, joints = expected.shape[:2]
        same = expected.reshape(batch, joints, -1).argmax(-1) == got.reshape(batch, joints, -1).argmax(-1)
    return int(same.sum()), int(same.size)


def _combine(figures: Sequence[Dict]) -> Dict:
    positions = sum(f['positions'] for f in figures)
    agreeing = sum(f['argmax_agreement'] * f['positions'] for f in figures)
    errors = [f['error'] for f in figures if f.get('error')]
    return dict(max_abs_diff=max(f['max_abs_diff'] for f in figures), scale=max(f['scale'] for f in figures),
                argmax_agreement=agreeing / positions if positions else 0.0, positions=positions,
                **({'error': errors[0]} if errors else {}))


def _within(figures: Dict, tolerance: float, min_agreement: float) -> bool:
    return figures['max_abs_diff'] <= tolerance * figures['scale'] and \
        figures['argmax_agreement'] >= min_agreement


def _shapes(names: Sequence[str], tensors, spec, dynamic_hw: bool) -> List[Dict]:
    """Names and shapes, dynamic axes named (``[batch, 3, height, width]``)."""
    axes = _dynamic_axes(spec, dynamic_hw)
    return [dict(name=name, shape=[axes[name].get(i, int(size)) for i, size in enumerate(tensor.shape)])
            for name, tensor in zip(names, tensors)]


def _checked_description(spec, dynamic_hw: bool) -> str:
    same = spec['same_size'][0]
    text = f'{same.shape[0]} images at {same.shape[2]}x{same.shape[3]}'
    if dynamic_hw:
        other = spec['other_size'][0]
        text += f' and {other.shape[0]} at {other.shape[2]}x{other.shape[3]}'
    return text
