"""Parsing inference: logits at each image's original size (flip, multi-scale) and checkpoint evaluation.

:class:`ParsingLogitPredictor` is the one place a parsing model meets an image at test time; ``evaluate``, the
ensemble and ``predict`` all go through it, so they agree pixel for pixel:

1. each image (BGR, any size) is resized to the model's input size times the scale -- keeping its aspect ratio
   and centred on a zero border (``keep_ratio=True``) or stretched (``keep_ratio=False``, HRNet-Seg's LIP test);
   images of different sizes therefore share one batch. With ``warp='ce2p'`` / ``'schp'`` it is instead warped
   exactly as those references' evaluation warps it (:mod:`.reference_warp`), and a scale resizes that input
   (bilinear, ``align_corners=True``) as SCHP's multi-scale test does;
2. the model's own data preprocessor normalises it and the segmentor's ``inference`` gives class logits
   (:class:`SegmentorNetwork`; an exported copy of that network, e.g. ONNX Runtime's, can take its place:
   everything around it stays as it is);
3. with ``flip``, the mirrored image is run too, its logits mirrored back and the left/right channels swapped
   (14<->15 arms, 16<->17 legs, 18<->19 shoes), as CE2P/SCHP/HRNet-Seg do;
4. the flips are averaged at the input size; the border is cut off, the logits are resized (bilinear) to the
   original size (``resize_in='exp'``: their exponentials, HRNet-Seg's way), then averaged over scales. Argmax
   comes last, at the original size. With a reference warp the logits are brought back to the
   input size and warped back with the reference's nearest-neighbour inverse warp, so the argmax is the
   reference's label map exactly.

The input size comes from the config: ``model.test_cfg.input_size`` (our parsing configs set it), otherwise
the ``scale`` of the ``Resize`` in the test pipeline.
"""
import copy
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import LipToolkitError
from ..core.runner import as_config as _as_config  # noqa: F401  (shared with the other track)
from ..core.runner import resolve_device as _resolve_device
from .classes import IGNORE_INDEX, LIP_CLASSES, LIP_FLIP_PAIRS
from .reference_warp import backward_index_map, check_warp, warp_image


def flip_channel_order(num_classes: int, flip_pairs: Sequence[Tuple[int, int]] = LIP_FLIP_PAIRS) -> List[int]:
    """Channel permutation that turns the logits of a mirrored image into those of the original.

    Example:
        >>> flip_channel_order(20)[13:]
        [13, 15, 14, 17, 16, 19, 18]
    """
    order = list(range(num_classes))
    for left, right in flip_pairs:
        if max(left, right) >= num_classes:
            raise ValueError(f'flip pair {(left, right)} is outside {num_classes} classes')
        order[left], order[right] = right, left
    return order


def unflip_logits(logits, flip_pairs: Sequence[Tuple[int, int]] = LIP_FLIP_PAIRS):
    """Mirror logits (..., C, H, W) of a flipped input back along W and swap left/right class channels."""
    import torch
    order = flip_channel_order(logits.shape[-3], flip_pairs)
    return torch.flip(logits, dims=[-1])[..., order, :, :]


class SegmentorNetwork:
    """The network call of :class:`ParsingLogitPredictor`: normalised images -> class logits at their size.

    It is the one thing a backend replaces: ``lip-toolkit export`` traces exactly this call, and an exported
    network (:class:`lip_toolkit.deploy.OnnxRuntimeNetwork`) offers the same attributes.

    Args:
        segmentor: an MMSeg segmentor (``EncoderDecoder``) in eval mode.

    Attributes:
        preprocessing: ``{'mean', 'std'}`` (per input channel, or None: no normalisation) and ``'bgr_to_rgb'``,
            from the segmentor's data preprocessor.
        num_classes: output channels.
    """

    def __init__(self, segmentor):
        from ..core.preprocessing import normalisation_of
        self.segmentor = segmentor.eval()
        self.preprocessing = normalisation_of(segmentor.data_preprocessor)
        self.num_classes = int(segmentor.decode_head.out_channels)

    @property
    def device(self):
        return next(self.segmentor.parameters()).device

    def __call__(self, inputs):
        """Logits (B, C, H, W) of normalised images (B, 3, H, W): the segmentor's whole or slide inference."""
        shape = tuple(inputs.shape[2:])
        metas = [dict(img_shape=shape, ori_shape=shape, pad_shape=shape, padding_size=[0, 0, 0, 0])
                 for _ in range(inputs.shape[0])]
        return self.segmentor.inference(inputs, metas)


class ParsingLogitPredictor:
    """Class logits of an MMSeg parsing model at each image's original size.

    Args:
        model: a built MMSeg segmentor (``EncoderDecoder``) with weights loaded (it is put in eval mode), or a
            network with :class:`SegmentorNetwork`'s interface (an exported model run by ONNX Runtime).
        input_size: ``(height, width)`` the image is resized to at scale 1.0; ``None`` keeps each image's size.
        flip: also run the mirrored image (with the left/right channel swap) and average.
        scales: factors on ``input_size``; the logits of all scales are averaged at the original size.
        keep_ratio: keep the aspect ratio (centred, zero border) or stretch to ``input_size``.
        flip_pairs: class pairs swapped by a mirror.
        output: ``'logits'`` averages raw logits; ``'softmax'`` averages per-pass class probabilities.
        batch_size: images per forward pass (each flip/scale pass is batched separately).
        warp: ``'ce2p'`` or ``'schp'``: that reference's affine test-time geometry instead of resizing
            (needs ``input_size``; ``keep_ratio`` does not apply).
        resize_in: what is resized to the original size: ``'logits'``, or ``'exp'`` (``exp(logits)``, then the
            log: HRNet-Seg's test). Applies to ``output='logits'`` without a warp.

    Example:
        >>> predictor = ParsingLogitPredictor.from_config(cfg, 'ce2p.pth', flip=True)  # doctest: +SKIP
        >>> logits = predictor(image_bgr)  # (20, H, W) float32, H x W = image size  # doctest: +SKIP
    """

    def __init__(self, model, input_size: Optional[Tuple[int, int]] = None, flip: bool = False,
                 scales: Sequence[float] = (1.0,), keep_ratio: bool = True,
                 flip_pairs: Sequence[Tuple[int, int]] = LIP_FLIP_PAIRS, output: str = 'logits',
                 batch_size: int = 8, warp: Optional[str] = None, resize_in: str = 'logits'):
        if output not in ('logits', 'softmax'):
            raise LipToolkitError(f"output must be 'logits' or 'softmax', got {output!r}")
        scales = tuple(float(s) for s in scales)
        if not scales or any(s <= 0 for s in scales):
            raise LipToolkitError(f'scales must be positive numbers, got {scales}')
        self.model = model
        self.network = SegmentorNetwork(model) if hasattr(model, 'inference') else model
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        self.flip = bool(flip)
        self.scales = scales
        self.keep_ratio = keep_ratio
        self.flip_pairs = tuple(flip_pairs)
        self.output = output
        self.batch_size = max(1, int(batch_size))
        self.warp = None if warp is None else check_warp(warp)
        if resize_in not in ('logits', 'exp'):
            raise LipToolkitError(f"resize_in must be 'logits' or 'exp', got {resize_in!r}")
        self.resize_in = resize_in
        if self.warp is not None and self.input_size is None:
            raise LipToolkitError(f'the {warp} warp needs an input size (model.test_cfg.input_size)')

    @classmethod
    def from_config(cls, config, checkpoint=None, device: Optional[str] = None, cfg_options: dict = None,
                    backend: str = 'pytorch', **kwargs) -> 'ParsingLogitPredictor':
        """Build the config's model, load ``checkpoint`` (safely) and wrap it.

        Args:
            config: config path (or a path under ``configs/``) or an mmengine ``Config``.
            checkpoint: weights file; ``None`` keeps the initial weights (tests). With ``backend='onnxruntime'``:
                a ``.onnx`` file written by ``lip-toolkit export`` from this config.
            device: ``'cpu'``, ``'cuda'``, ``'cuda:N'``; default CUDA when available.
            cfg_options: overrides applied to the config.
            backend: ``'pytorch'`` or ``'onnxruntime'``; the test-time geometry (config and ``kwargs``) is the
                same for both.
            **kwargs: predictor options; ``input_size``, ``keep_ratio``, ``warp`` and ``resize_in`` default to
                the config's (the last two from ``model.test_cfg``).
        """
        from ..deploy.runtime import check_backend_file
        cfg = _as_config(config, cfg_options)
        check_backend_file(checkpoint, backend)
        if backend == 'onnxruntime':
            from ..deploy.runtime import OnnxRuntimeNetwork
            model = OnnxRuntimeNetwork(checkpoint, device=device, config=cfg, track='parsing')
        else:
            model = build_parsing_model(cfg, checkpoint, device)
        input_size, keep_ratio = config_input_size(cfg)
        kwargs.setdefault('input_size', input_size)
        kwargs.setdefault('keep_ratio', keep_ratio)
        test_cfg = cfg.model.get('test_cfg') or {}
        kwargs.setdefault('warp', test_cfg.get('warp'))
        kwargs.setdefault('resize_in', test_cfg.get('resize_in', 'logits'))
        return cls(model, **kwargs)

    @property
    def device(self):
        return self.network.device

    @property
    def num_classes(self) -> int:
        return int(self.network.num_classes)

    def __call__(self, images: Union[np.ndarray, Sequence[np.ndarray]]):
        """Logits (C, H, W) float32 for one BGR image (H, W, 3) uint8, or a list of them for a list/batch."""
        single = isinstance(images, np.ndarray) and images.ndim == 3
        batch = [images] if single else list(images)
        for index, image in enumerate(batch):
            if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
                shape = getattr(image, 'shape', type(image).__name__)
                raise LipToolkitError(f'image {index} must be an H x W x 3 BGR array, got {shape}')
        results = []
        for start in range(0, len(batch), self.batch_size):
            results.extend(self.predict_batch(batch[start:start + self.batch_size]))
        return results[0] if single else results

    def predict_labels(self, image: np.ndarray) -> np.ndarray:
        """Class ids (H, W) uint8 of one BGR image at its original size."""
        return self(image).argmax(axis=0).astype(np.uint8)

    def predict_batch(self, images: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Averaged logits (or probabilities) for a list of BGR images, each at its original size."""
        import torch
        totals = [None] * len(images)
        flips = (False, True) if self.flip else (False,)
        exp_space = self.resize_in == 'exp' and self.output == 'logits'
        with torch.no_grad():
            warped = self._prepare_warped(images) if self.warp else None
            for scale in self.scales:
                inputs, windows = self._scale_warped(warped, scale) if self.warp else self._prepare(images, scale)
                # Flips share the geometry, so they are averaged at the input size (as the references do) and
                # brought back to the original size once.
                averaged = 0
                for flipped in flips:
                    batch = torch.flip(inputs, dims=[-1]) if flipped else inputs
                    logits = self._forward(batch)
                    if flipped:
                        logits = unflip_logits(logits, self.flip_pairs)
                    if self.output == 'softmax':
                        logits = logits.softmax(dim=1)
                    averaged = averaged + logits
                averaged = averaged / len(flips)
                for index, (image, window) in enumerate(zip(images, windows)):
                    if self.warp:
                        restored = _warp_back(averaged[index:index + 1], window, image.shape[:2])
                    else:
                        restored = _restore(averaged[index:index + 1], window, image.shape[:2], exp_space)
                    totals[index] = restored if totals[index] is None else totals[index] + restored
        return [(total / len(self.scales))[0].float().cpu().numpy() for total in totals]

    def _target_size(self, image_shape: Tuple[int, int], scale: float) -> Tuple[int, int]:
        base = self.input_size or image_shape
        return max(1, int(round(base[0] * scale))), max(1, int(round(base[1] * scale)))

    def _prepare(self, images: Sequence[np.ndarray], scale: float):
        """Resize each image into a common canvas; return the uint8 batch and each image's valid window."""
        import cv2
        import torch
        sizes = [self._target_size(image.shape[:2], scale) for image in images]
        canvas_h = max(h for h, _ in sizes)
        canvas_w = max(w for _, w in sizes)
        canvas = np.zeros((len(images), canvas_h, canvas_w, 3), dtype=np.uint8)
        windows = []
        for index, (image, (target_h, target_w)) in enumerate(zip(images, sizes)):
            height, width = image.shape[:2]
            if self.keep_ratio:
                ratio = min(target_h / height, target_w / width)
                new_h = max(1, min(target_h, int(round(height * ratio))))
                new_w = max(1, min(target_w, int(round(width * ratio))))
            else:
                new_h, new_w = target_h, target_w
            top = (target_h - new_h) // 2
            left = (target_w - new_w) // 2
            resized = image if (new_h, new_w) == (height, width) else cv2.resize(
                image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
            canvas[index, top:top + new_h, left:left + new_w] = resized
            windows.append((top, left, new_h, new_w))
        batch = torch.from_numpy(canvas).permute(0, 3, 1, 2).contiguous()
        return batch, windows

    def _prepare_warped(self, images: Sequence[np.ndarray]):
        """The reference warp of each image onto the input size, and each image's inverse index map."""
        import torch
        crops = np.stack([warp_image(image, self.input_size, self.warp) for image in images])
        index_maps = [torch.from_numpy(backward_index_map(image.shape[:2], self.input_size, self.warp))
                      for image in images]
        return torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous(), index_maps

    def _scale_warped(self, warped, scale: float):
        """SCHP's multi-scale input: the warped input resized by ``scale`` (bilinear, corners aligned)."""
        import torch.nn.functional as F
        crops, index_maps = warped
        if scale != 1.0:
            crops = F.interpolate(crops.float(), scale_factor=scale, mode='bilinear', align_corners=True)
        windows = [(index_map, self.input_size) for index_map in index_maps]
        return crops, windows

    def network_inputs(self, images: Sequence[np.ndarray], scale: float = 1.0):
        """The normalised batch the network sees for these BGR images at ``scale`` (export's parity check)."""
        if self.warp:
            inputs, _ = self._scale_warped(self._prepare_warped(images), scale)
        else:
            inputs, _ = self._prepare(images, scale)
        return self._normalise(inputs)

    def _normalise(self, batch):
        """(B, 3, H, W) BGR pixels -> the network's input, as the model's data preprocessor makes it."""
        import torch
        preprocessing = self.network.preprocessing
        inputs = batch.to(self.device).float()
        if preprocessing['bgr_to_rgb']:
            inputs = inputs[:, [2, 1, 0]]
        if preprocessing['mean'] is not None:
            mean = torch.tensor(preprocessing['mean'], device=inputs.device).view(1, -1, 1, 1)
            std = torch.tensor(preprocessing['std'], device=inputs.device).view(1, -1, 1, 1)
            inputs = (inputs - mean) / std
        return inputs

    def _forward(self, batch):
        """Normalise and run the network (the segmentor's whole or slide inference, or its exported copy)."""
        return self.network(self._normalise(batch))


def _restore(logits, window, original_shape, exp_space: bool = False):
    """Cut the image's window out of (1, C, h, w) logits and resize them to the original (H, W).

    ``exp_space`` resizes ``exp(logits)`` and returns its log (HRNet-Seg's test resizes ``exp(logits)``; the
    argmax then equals its own). The largest logit is taken out first and float64 used, so nothing overflows.
    """
    import torch
    import torch.nn.functional as F
    top, left, height, width = window
    logits = logits[:, :, top:top + height, left:left + width]
    if tuple(logits.shape[2:]) == tuple(original_shape):
        return logits
    if not exp_space:
        return F.interpolate(logits, size=tuple(original_shape), mode='bilinear', align_corners=False)
    peak = logits.amax()
    resized = F.interpolate((logits.double() - peak).exp(), size=tuple(original_shape), mode='bilinear',
                            align_corners=False)
    return (resized.clamp_min(torch.finfo(torch.float64).tiny).log() + peak).to(logits.dtype)


def _warp_back(logits, window, original_shape):
    """(1, C, h, w) logits of a reference-warped input -> (1, C, H, W) at the original size.

    The logits are first brought to the input size (bilinear, ``align_corners=True``: SCHP's up-sampling of a
    scaled input's output), then each original pixel takes the input pixel of the reference's inverse warp;
    pixels the warp leaves uncovered get zeros (argmax: background, the references' border label).
    """
    import torch.nn.functional as F
    index_map, input_size = window
    if tuple(logits.shape[2:]) != tuple(input_size):
        logits = F.interpolate(logits, size=tuple(input_size), mode='bilinear', align_corners=True)
    index_map = index_map.to(logits.device)
    flat = logits.flatten(2)[:, :, index_map.clamp(min=0).flatten()]
    flat = flat * (index_map.flatten() >= 0).to(flat.dtype)
    return flat.reshape(*logits.shape[:2], *original_shape)


def build_parsing_model(cfg, checkpoint=None, device: Optional[str] = None):
    """Build the segmentor of an MMSeg config in eval mode, with ``checkpoint`` loaded strictly and safely.

    SyncBN layers become plain BN (identical at test time, and runnable outside a process group).
    """
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from ..core.checkpoint import load_checkpoint
    from ..registration import register_all_modules
    register_all_modules(pose=False)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)  # the caller's config stays as it was
    model_cfg.pop('pretrained', None)
    _drop_pretrained(model_cfg)
    model = MODELS.build(model_cfg)
    model = _sync_bn_to_bn(model)
    if checkpoint is not None:
        if not Path(checkpoint).is_file():
            raise LipToolkitError('checkpoint not found', checkpoint)
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(torch.device(_resolve_device(device))).eval()


#: init_cfg types that read a weight file (``ConvertedPretrained``: lip_toolkit.convert.imagenet).
PRETRAINED_INIT_TYPES = ('Pretrained', 'ConvertedPretrained')


def _drop_pretrained(model_cfg) -> None:
    """The weights come from the checkpoint: never read the ImageNet file named in ``init_cfg``."""
    for key in ('backbone', 'decode_head'):
        part = model_cfg.get(key)
        if part is not None and isinstance(part.get('init_cfg'), dict) and \
                part['init_cfg'].get('type') in PRETRAINED_INIT_TYPES:
            part['init_cfg'] = None


def _sync_bn_to_bn(module):
    import torch
    converted = module
    if isinstance(module, torch.nn.SyncBatchNorm):
        converted = torch.nn.BatchNorm2d(module.num_features, module.eps, module.momentum, module.affine,
                                         module.track_running_stats)
        if module.affine:
            converted.weight, converted.bias = module.weight, module.bias
        converted.running_mean, converted.running_var = module.running_mean, module.running_var
        converted.num_batches_tracked = module.num_batches_tracked
    for name, child in module.named_children():
        converted.add_module(name, _sync_bn_to_bn(child))
    return converted


def config_input_size(cfg) -> Tuple[Optional[Tuple[int, int]], bool]:
    """``(input_size (h, w) or None, keep_ratio)`` from ``model.test_cfg`` or the test pipeline's ``Resize``."""
    test_cfg = cfg.model.get('test_cfg') or {}
    if test_cfg.get('input_size') is not None:
        height, width = test_cfg['input_size']
        return (int(height), int(width)), bool(test_cfg.get('keep_ratio', True))
    for loader in ('test_dataloader', 'val_dataloader'):
        pipeline = (cfg.get(loader) or {}).get('dataset', {}).get('pipeline', []) or []
        for transform in pipeline:
            if transform.get('type') in ('Resize', 'mmseg.Resize', 'RandomResize') and transform.get('scale'):
                width, height = transform['scale']  # mmcv scales are (w, h)
                return (int(height), int(width)), bool(transform.get('keep_ratio', True))
    return None, True


def split_items(cfg, split: str = 'val', data_root=None) -> List[Dict]:
    """The split's images as ``[{'id', 'img_path', 'seg_map_path' (None for test)}]``, from the LIP dataset.

    The dataset of the config's ``val_dataloader`` (``LIPParsingDataset``) is built for ``split`` without a
    pipeline, so it lists exactly what training-time validation would.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = cfg.get('test_dataloader') if split == 'test' and cfg.get('test_dataloader') else cfg.get(
        'val_dataloader')
    if not loader or 'dataset' not in loader:
        raise LipToolkitError('config has no val_dataloader.dataset to list the split from')
    dataset_cfg = loader['dataset'].copy()
    if dataset_cfg.get('type') in ('ConcatDataset', 'RepeatDataset'):
        raise LipToolkitError(f"evaluation needs a single LIP dataset, not {dataset_cfg['type']}")
    dataset_cfg['split'] = split
    if data_root is not None:
        dataset_cfg['data_root'] = str(data_root)
    dataset_cfg['pipeline'] = []
    dataset_cfg['lazy_init'] = False
    dataset = DATASETS.build(dataset_cfg)
    items = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        img_path = Path(info['img_path'])
        seg_path = info.get('seg_map_path')
        items.append(dict(id=img_path.stem, img_path=str(img_path),
                          seg_map_path=None if split == 'test' or not seg_path else str(seg_path)))
    return items


def evaluate_checkpoint(config, checkpoint, flip: bool = False, scales: Sequence[float] = (1.0,),
                        out_dir=None, split: str = 'val', data_root=None, device: Optional[str] = None,
                        cfg_options: Optional[dict] = None, batch_size: int = 4, backend: str = 'pytorch') -> dict:
    """Predict a LIP split with a checkpoint; score it (mIoU) when it has labels; optionally write PNGs.

    Args:
        config: parsing config path (or a path under ``configs/``) or an mmengine ``Config``.
        checkpoint: weights file (loaded through :func:`lip_toolkit.core.checkpoint.load_checkpoint`).
        flip: flip test with the 14/15, 16/17, 18/19 channel swap.
        scales: test scales (factors on the config's input size), logits averaged.
        out_dir: folder for ``<id>.png`` label maps at each image's original size; it appears complete or
            not at all (built aside, then swapped in).
        split: ``'val'``, ``'train'`` or ``'test'`` (no labels: predictions only).
        data_root: LIP release folder; default the config's.
        device: ``'cpu'``, ``'cuda'``...; default CUDA when available.
        cfg_options: config overrides.
        batch_size: images per forward pass.
        backend: ``'pytorch'``, or ``'onnxruntime'`` with ``checkpoint`` an exported ``.onnx`` file.

    Returns:
        ``{'mIoU', 'pixel_acc', 'mean_acc', 'IoU': {class: %}, 'num_images', 'table'}`` (percentages; scores and
        table only with labels), plus ``'out_dir'`` when PNGs were written. In a distributed run (``torchrun``)
        every process predicts its share and the scores cover the whole split.
    """
    from ..core.launch import all_reduce_sum, output_directory, rank_and_world
    from ..core.progress import progress
    from .evaluation import format_miou_table
    from .metrics import confusion_matrix, miou_from_confusion

    cfg = _as_config(config, cfg_options)
    if split not in ('train', 'val', 'test'):
        raise LipToolkitError(f"split must be 'train', 'val' or 'test', got {split!r}")
    if not Path(checkpoint).is_file():
        raise LipToolkitError('checkpoint not found', checkpoint)
    rank, world = rank_and_world()
    if device is None and world > 1:
        import torch
        device = f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu'
    predictor = ParsingLogitPredictor.from_config(cfg, checkpoint, device=device, flip=flip, scales=scales,
                                                  batch_size=batch_size, backend=backend)
    items = split_items(cfg, split, data_root)
    mine = items[rank::world]
    num_classes = predictor.num_classes
    conf = np.zeros((num_classes, num_classes), dtype=np.int64)
    has_labels = split != 'test' and all(item['seg_map_path'] for item in items)

    def run(png_dir: Optional[Path]):
        nonlocal conf
        bar = progress(total=len(mine), desc=f'parsing {split}', unit='img')
        for start in range(0, len(mine), batch_size):
            chunk = mine[start:start + batch_size]
            images = [_read_image(item['img_path']) for item in chunk]
            for item, logits in zip(chunk, predictor(images)):
                labels = logits.argmax(axis=0).astype(np.uint8)
                if has_labels:
                    conf += _confusion(item['seg_map_path'], labels, num_classes, confusion_matrix)
                if png_dir is not None:
                    _write_png(png_dir / f"{item['id']}.png", labels)
            bar.update(len(chunk))
        bar.close()

    with output_directory(out_dir) as png_dir:
        run(png_dir)
    if world > 1:
        conf = all_reduce_sum(conf)

    result: Dict = {'num_images': len(items), 'split': split, 'flip': bool(flip),
                    'scales': list(predictor.scales)}
    if has_labels:
        class_names = LIP_CLASSES if num_classes == len(LIP_CLASSES) else [str(i) for i in range(num_classes)]
        result.update(miou_from_confusion(conf, class_names))
        result['table'] = format_miou_table(result)
    if out_dir is not None:
        result['out_dir'] = str(out_dir)
    return result


def _read_image(path: str) -> np.ndarray:
    from ..core.image_io import read_image_bgr
    return read_image_bgr(path)


def _confusion(seg_path: str, labels: np.ndarray, num_classes: int, confusion_matrix) -> np.ndarray:
    from .label_io import read_label_map
    gt = read_label_map(seg_path, role='gt', shape=labels.shape, num_classes=num_classes)
    return confusion_matrix(gt, labels, num_classes=num_classes, ignore_index=IGNORE_INDEX)


def _write_png(path: Path, labels: np.ndarray) -> None:
    from .label_io import write_label_png
    write_label_png(path, labels, paletted=True)


