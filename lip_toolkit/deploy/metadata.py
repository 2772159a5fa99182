"""What an exported model carries in its ONNX ``metadata_props``, and the check that it fits a config.

Every value is stored as JSON text under its own key, so that any ONNX reader (``onnx.load(...).metadata_props``,
``InferenceSession(...).get_modelmeta().custom_metadata_map``) gets everything needed to feed the model:

========================  ===============================================================================
``lip_toolkit_format``    ``1``
``track``                 ``"pose"`` or ``"parsing"``
``input_size``            ``[height, width]`` of the image input at scale 1
``channel_order``         ``"RGB"`` or ``"BGR"``: the order of the image input's channels
``mean`` / ``std``        per input channel (in ``channel_order``), on 0-255 pixels: ``(pixel - mean) / std``
``inputs`` / ``outputs``  names with their shapes (``"batch"``, ``"height"``, ``"width"`` where dynamic)
``flip_pairs``            parsing: class pairs a mirror swaps; pose: joint pairs
``class_names``           parsing: the 20 LIP classes
``joint_names``           pose: the 16 LIP joints, in output order
``...``                   the rest of :func:`config_facts` and of the exporter's report (``parity``...)
========================  ===============================================================================
"""
import json
from typing import Dict, Mapping

from ..core.errors import LipToolkitError

FORMAT_VERSION = 1

# The facts a config and an exported model must agree on before one runs the other's test-time geometry.
MATCHED_KEYS = ('track', 'input_size', 'channel_order', 'mean', 'std', 'num_outputs')


def config_facts(cfg, track: str) -> Dict:
    """The preprocessing and test geometry a config gives its model: what an export records and is checked on.

    Only the data preprocessor is built (cheap), never the network.
    """
    from ..core.preprocessing import normalisation_of
    from ..registration import register_all_modules
    register_all_modules(pose=track == 'pose', parsing=track == 'parsing')
    if track == 'pose':
        from mmpose.registry import MODELS
        from ..pose.datasets import LIP_POSE_METAINFO_FILE
        from ..visualization.pose import LIP_JOINT_NAMES
        from mmpose.datasets.datasets.utils import parse_pose_metainfo
        flip_indices = list(parse_pose_metainfo(dict(from_file=LIP_POSE_METAINFO_FILE))['flip_indices'])
        facts = dict(input_size=_pose_input_size(cfg), joint_names=list(LIP_JOINT_NAMES),
                     flip_pairs=sorted({tuple(sorted((i, j))) for i, j in enumerate(flip_indices) if i != j}),
                     num_outputs=int(cfg.model.head.get('out_channels', len(LIP_JOINT_NAMES))))
    else:
        from mmseg.registry import MODELS
        from ..parsing.classes import LIP_CLASSES, LIP_FLIP_PAIRS
        from ..parsing.inference import config_input_size
        input_size, keep_ratio = config_input_size(cfg)
        num_classes = int(cfg.model.decode_head.num_classes)
        facts = dict(input_size=None if input_size is None else list(input_size), keep_ratio=keep_ratio,
                     class_names=list(LIP_CLASSES) if num_classes == len(LIP_CLASSES) else None,
                     flip_pairs=[list(pair) for pair in LIP_FLIP_PAIRS], num_outputs=num_classes)
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmpose' if track == 'pose' else 'mmseg'))
    normalisation = normalisation_of(MODELS.build(dict(cfg.model.data_preprocessor)))
    facts.update(track=track, channel_order='RGB' if normalisation['bgr_to_rgb'] else 'BGR',
                 mean=normalisation['mean'], std=normalisation['std'], pixel_range=[0, 255], layout='NCHW float32')
    if facts.get('flip_pairs') is not None:
        facts['flip_pairs'] = [list(pair) for pair in facts['flip_pairs']]
    return facts


def _pose_input_size(cfg):
    """``[height, width]`` of the test pipeline's ``TopdownAffine`` (MMPose sizes are (w, h))."""
    for step in cfg.test_dataloader.dataset.pipeline:
        if step.get('type') == 'TopdownAffine':
            width, height = step['input_size']
            return [int(height), int(width)]
    raise LipToolkitError('the test pipeline has no TopdownAffine: no input size to export at')


def encode(metadata: Mapping) -> Dict[str, str]:
    """``{key: JSON text}`` for ``metadata_props``."""
    return {key: json.dumps(value) for key, value in metadata.items()}


def decode(props: Mapping[str, str]) -> Dict:
    """The inverse of :func:`encode` (keys another tool added and that are not JSON are kept as text)."""
    out = {}
    for key, text in props.items():
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def check_fits_config(metadata: Mapping, cfg, track: str, path) -> None:
    """Refuse an exported model whose preprocessing or input size differs from the config that is to run it."""
    if metadata.get('lip_toolkit_format') != FORMAT_VERSION:
        raise LipToolkitError('not a model written by `lip-toolkit export` (no lip_toolkit_format in its '
                              'metadata)', path)
    facts = config_facts(cfg, track)
    source = getattr(cfg, 'filename', None) or 'the config'
    for key in MATCHED_KEYS:
        if _normalised(metadata.get(key)) != _normalised(facts.get(key)):
            if key == 'input_size' and track == 'parsing' and metadata.get('dynamic_hw') is False:
                _refuse_other_size(metadata['input_size'], facts['input_size'], source, path)
            raise LipToolkitError(f'exported from another config: {key} is {metadata.get(key)} here, '
                                  f'{facts.get(key)} in {source}', path)


def _refuse_other_size(exported, tested, source, path) -> None:
    """A fixed-size parsing export under a config that tests at another size: one line saying how to run it."""
    height, width = exported
    tests_at = 'at each image\'s own size' if tested is None else f'at {tested[0]}x{tested[1]}'
    raise LipToolkitError(f'this export takes {height}x{width} inputs only (fixed height and width) and {source} '
                          f'tests {tests_at}: run it with --cfg-options model.test_cfg.input_size=[{height},{width}], '
                          'or use an export at the config\'s size', path)


def _normalised(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (list, tuple)):
        return [_normalised(v) for v in value]
    return value
