"""Deployment: export a pose or parsing model to ONNX (parity with PyTorch checked at export, the preprocessing in
the file's metadata) and run the exported file with ONNX Runtime behind ``predict`` / ``evaluate``.

``onnx`` and ``onnxruntime`` are an optional extra (``pip install 'lip-toolkit[onnx]'``); nothing here imports
them before it is used.
"""
from .export import export_model
from .runtime import OnnxRuntimeNetwork, read_metadata

__all__ = ['export_model', 'OnnxRuntimeNetwork', 'read_metadata']
