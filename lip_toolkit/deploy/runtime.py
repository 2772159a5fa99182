"""Run an exported model with ONNX Runtime behind the toolkit's predictors (``--backend onnxruntime``).

:class:`OnnxRuntimeNetwork` stands where the PyTorch network stands: in
:class:`~lip_toolkit.parsing.inference.ParsingLogitPredictor` it offers :class:`~lip_toolkit.parsing.inference.
SegmentorNetwork`'s interface, in :class:`~lip_toolkit.pose.inference.PoseHeatmapPredictor` it is handed the
model's layers by :func:`~lip_toolkit.pose.inference.use_exported_network`. Resizing, flip test, scales,
decoding: all stay with the predictors and the config, shared by both backends.
"""
from pathlib import Path
from typing import Optional

from ..core.errors import LipToolkitError

BACKENDS = ('pytorch', 'onnxruntime')
ONNX_PINS = 'onnx==1.23.2 onnxruntime==1.32.0'
INSTALL_HINT = f"pip install 'lip-toolkit[onnx]' (or: pip install {ONNX_PINS})"


def require(module: str, purpose: str):
    """Import ``module`` (``onnx``, ``onnxruntime``) or stop with a one-line install hint."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise LipToolkitError(f'{purpose} needs {module}, which is not installed: {INSTALL_HINT}') from None


def check_backend_file(checkpoint, backend: str) -> None:
    """The weights file suits the backend: a ``.onnx`` file for ONNX Runtime, anything else for PyTorch."""
    if backend not in BACKENDS:
        raise LipToolkitError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if checkpoint is None:
        if backend == 'onnxruntime':
            raise LipToolkitError('the onnxruntime backend needs the .onnx file written by `lip-toolkit export`')
        return
    is_onnx = str(checkpoint).lower().endswith('.onnx')
    if backend == 'onnxruntime' and not is_onnx:
        raise LipToolkitError('--backend onnxruntime runs a .onnx file (written by `lip-toolkit export`)',
                              checkpoint)
    if backend == 'pytorch' and is_onnx:
        raise LipToolkitError('this is an exported ONNX model: run it with --backend onnxruntime', checkpoint)


def read_metadata(path) -> dict:
    """The decoded ``metadata_props`` of an ONNX file (see :mod:`lip_toolkit.deploy.metadata`)."""
    from .metadata import decode
    onnx = require('onnx', 'reading an ONNX file')
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises its own DecodeError
        raise LipToolkitError(f'not a readable ONNX file ({type(exc).__name__})', path) from None
    return decode({prop.key: prop.value for prop in model.metadata_props})


class OnnxRuntimeNetwork:
    """An exported network run by ONNX Runtime, on torch tensors in and out.

    Args:
        path: the ``.onnx`` file.
        device: ``None`` or ``'cpu'``: the CPU provider; ``'cuda'`` / ``'cuda:N'``: the CUDA provider (needs the
            ``onnxruntime-gpu`` package).
        config: when given (path or Config), the file's preprocessing and input size must be this config's.
        track: ``'pose'`` or ``'parsing'``, checked against the file.
        threads: intra-op threads; default ``torch.get_num_threads()``, what PyTorch uses.

    Attributes:
        metadata: the decoded metadata.
        input_names / output_names: the graph's.
        input_channels: channels of each input (PoseFix: ``[3, 16]``).
        preprocessing: ``{'mean', 'std', 'bgr_to_rgb'}``, as :class:`~lip_toolkit.parsing.inference.SegmentorNetwork`.
        num_classes: output channels of a parsing model.
    """

    def __init__(self, path, device: Optional[str] = None, config=None, track: Optional[str] = None,
                 threads: Optional[int] = None):
        import torch
        ort = require('onnxruntime', 'the onnxruntime backend')
        path = Path(path)
        if not path.is_file():
            raise LipToolkitError('ONNX model not found', path)
        self.path = path
        self.metadata = read_metadata(path)
        if track is not None and self.metadata.get('track') not in (None, track):
            raise LipToolkitError(f"a {self.metadata.get('track')} model, not a {track} one", path)
        if config is not None:
            from ..core.runner import as_config
            from .metadata import check_fits_config
            check_fits_config(self.metadata, as_config(config), track or self.metadata.get('track'), path)
        providers = ['CPUExecutionProvider']
        if device is not None and str(device).startswith('cuda'):
            if 'CUDAExecutionProvider' not in ort.get_available_providers():
                raise LipToolkitError(f'ONNX Runtime has no CUDA provider here (device {device}); install '
                                      'onnxruntime-gpu or use --device cpu')
            index = str(device).partition(':')[2] or '0'
            providers = [('CUDAExecutionProvider', {'device_id': int(index)}), 'CPUExecutionProvider']
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initialisers etc. are not the user's concern
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise LipToolkitError(f'ONNX Runtime cannot load it: {str(exc).splitlines()[0]}', path) from None
        self.input_names = [arg.name for arg in self.session.get_inputs()]
        self.output_names = [arg.name for arg in self.session.get_outputs()]
        self.input_channels = [int(arg.shape[1]) for arg in self.session.get_inputs()]
        self.preprocessing = dict(mean=self.metadata.get('mean'), std=self.metadata.get('std'),
                                  bgr_to_rgb=self.metadata.get('channel_order') == 'RGB')
        channels = self.session.get_outputs()[0].shape[1]
        self.num_classes = self.metadata.get('num_outputs') or (channels if isinstance(channels, int) else None)
        self.device = torch.device('cpu')

    def run(self, *arrays):
        """NumPy in, NumPy out: one float32 array per input, a list with one array per output."""
        import numpy as np
        for arg, array in zip(self.session.get_inputs(), arrays):
            fixed = [size for size in arg.shape[2:] if isinstance(size, int)]
            if len(fixed) == 2 and list(array.shape[2:]) != fixed:
                raise LipToolkitError(f'this export takes {fixed[0]}x{fixed[1]} inputs only, not '
                                      f'{array.shape[2]}x{array.shape[3]} (the network was exported at a fixed size: '
                                      'test scales other than 1 need the PyTorch backend)', self.path)
        feed = {name: np.ascontiguousarray(array, dtype=np.float32) for name, array in zip(self.input_names, arrays)}
        return self.session.run(self.output_names, feed)

    def __call__(self, *inputs):
        """Torch tensors in (on any device), torch tensors out on the inputs' device: one, or a tuple of several."""
        import torch
        device = inputs[0].device
        outputs = [torch.from_numpy(out).to(device) for out in self.run(*(t.detach().cpu().numpy() for t in inputs))]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
