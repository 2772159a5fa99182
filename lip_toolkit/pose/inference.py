"""Pose inference: checkpoint -> heatmaps and joints in original-image pixels -> LIP CSV and PCKh.

The path every pose prediction takes (evaluation, the ensemble, refinement):

1. :class:`PoseHeatmapPredictor` runs the config's own test pipeline on decoded images (the person box is the
   whole image, as :class:`~lip_toolkit.pose.datasets.LIPPoseDataset` defines it), then the model with flip test
   (mirror the input, flip the heatmaps back, swap LIP's left/right joints, average; MMPose's heads do this);
2. it returns the averaged heatmaps with, per image, the 2x3 affine that maps heatmap pixels to original pixels,
   and the joints the model's own codec decodes from them, already in original pixels;
3. heatmaps of models with other input sizes are brought onto one grid with :func:`warp_heatmaps`, averaged, and
   decoded with :func:`decode_heatmaps`.

The layers between the normalised input and what the head decodes (backbone, neck, head layers: the *network*,
:func:`network_outputs`) can run elsewhere: :func:`use_exported_network` hands them to an exported copy (ONNX
Runtime) while the pipeline, flip test and decoding above stay MMPose's, unchanged.

:func:`evaluate_checkpoint` is the API behind ``lip-toolkit evaluate CONFIG CHECKPOINT``.
"""
import os.path as osp
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..core.errors import LipToolkitError
from ..core.runner import as_config as _as_config  # noqa: F401  (shared with the other track)
from ..core.runner import resolve_device as _resolve_device

NUM_JOINTS = 16


@dataclass
class HeatmapBatch:
    """What :meth:`PoseHeatmapPredictor.predict` returns for a batch of B images.

    Attributes:
        heatmaps: (B, 16, h, w) float32, flip-averaged when the predictor flips.
        affines: (B, 2, 3) float64; ``affines[i] @ (x, y, 1)`` maps heatmap pixel (x, y) of image i to its
            original pixel.
        keypoints: (B, 16, 2) joints decoded by the model's own codec, in original pixels.
        scores: (B, 16) their confidences.
    """

    heatmaps: np.ndarray
    affines: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


def heatmap_affine(input_center, input_scale, heatmap_size) -> np.ndarray:
    """The 2x3 affine from heatmap pixels to original pixels for one top-down crop (no rotation).

    It composes the two steps of MMPose's top-down decoding: the codec scales heatmap pixels to input pixels
    (``input_size / heatmap_size``), and ``TopdownPoseEstimator`` maps input pixels to the image
    (``x / input_size * input_scale + input_center - input_scale / 2``).

    Args:
        input_center: (2,) crop centre in original pixels.
        input_scale: (2,) crop size (w, h) in original pixels.
        heatmap_size: (w, h) of the heatmap.
    """
    center = np.asarray(input_center, dtype=np.float64).reshape(2)
    scale = np.asarray(input_scale, dtype=np.float64).reshape(2)
    step = scale / np.asarray(heatmap_size, dtype=np.float64)
    offset = center - 0.5 * scale
    return np.array([[step[0], 0.0, offset[0]], [0.0, step[1], offset[1]]])


def apply_affine(points: np.ndarray, affines: np.ndarray) -> np.ndarray:
    """Map points (B, K, 2) with per-image affines (B, 2, 3)."""
    points = np.asarray(points, dtype=np.float64)
    return np.einsum('bij,bkj->bki', affines[:, :, :2], points) + affines[:, None, :, 2]


def warp_heatmaps(heatmaps, src_affines, dst_affines, dst_size):
    """Resample heatmaps onto another grid, e.g. to average models with different input sizes.

    A pixel p of the destination grid takes the (bilinearly interpolated) value at ``src^-1(dst(p))`` of the
    source heatmap, where ``src`` and ``dst`` map heatmap pixels to original pixels; outside the source it is 0.

    Args:
        heatmaps: (B, K, h, w) array or tensor.
        src_affines: (B, 2, 3) affines of ``heatmaps``.
        dst_affines: (B, 2, 3) affines of the destination grid (or one (2, 3) for all).
        dst_size: (w, h) of the destination grid.

    Returns:
        np.ndarray: (B, K, dst_h, dst_w) float32.
    """
    import torch
    import torch.nn.functional as F

    maps = torch.as_tensor(np.asarray(heatmaps), dtype=torch.float32)
    batch, _, src_h, src_w = maps.shape
    src = np.asarray(src_affines, dtype=np.float64).reshape(batch, 2, 3)
    dst = np.broadcast_to(np.asarray(dst_affines, dtype=np.float64), (batch, 2, 3))
    dst_w, dst_h = (int(v) for v in dst_size)
    xs, ys = np.meshgrid(np.arange(dst_w, dtype=np.float64), np.arange(dst_h, dtype=np.float64))
    grid_points = np.stack([xs.ravel(), ys.ravel()], axis=-1)[None].repeat(batch, axis=0)
    original = apply_affine(grid_points, dst)
    # invert the source affines (diagonal-or-general 2x2 part plus offset)
    linear_inv = np.linalg.inv(src[:, :, :2])
    source_px = np.einsum('bij,bkj->bki', linear_inv, original - src[:, None, :, 2])
    # align_corners=True: -1 and 1 are the centres of the first and last pixels, i.e. heatmap indices 0 and w-1
    norm = np.stack([2 * source_px[..., 0] / max(src_w - 1, 1) - 1,
                     2 * source_px[..., 1] / max(src_h - 1, 1) - 1], axis=-1)
    grid = torch.as_tensor(norm.reshape(batch, dst_h, dst_w, 2), dtype=torch.float32)
    warped = F.grid_sample(maps, grid, mode='bilinear', padding_mode='zeros', align_corners=True)
    return warped.numpy()


def decode_heatmaps(heatmaps, affines, codec: Optional[dict] = None):
    """Decode (averaged) heatmaps to joints in original pixels with an MMPose codec.

    Args:
        heatmaps: (B, K, h, w).
        affines: (B, 2, 3) heatmap-pixel -> original-pixel affines (see :class:`HeatmapBatch`).
        codec: MMPose codec config (``MSRAHeatmap`` by default: argmax plus the quarter-pixel shift towards the
            higher neighbour; ``dict(type='MSRAHeatmap', unbiased=True, blur_kernel_size=11)`` gives DARK). Its
            sizes are set to the heatmap's, so it decodes in heatmap pixels.

    Returns:
        tuple: keypoints (B, K, 2) in original pixels, scores (B, K).
    """
    from mmpose.registry import KEYPOINT_CODECS

    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    batch, _, height, width = heatmaps.shape
    codec = dict(codec or dict(type='MSRAHeatmap', sigma=2.0))
    codec.update(input_size=(width, height), heatmap_size=(width, height))
    if codec['type'] == 'MegviiHeatmap':
        codec.pop('sigma', None)
        codec.setdefault('kernel_size', 11)
    decoder = KEYPOINT_CODECS.build(codec)
    keypoints = np.zeros((batch, heatmaps.shape[1], 2))
    scores = np.zeros((batch, heatmaps.shape[1]))
    for i in range(batch):
        points, confidence = decoder.decode(heatmaps[i].copy())
        keypoints[i] = points[0, :, :2]
        scores[i] = confidence[0]
    return apply_affine(keypoints, np.asarray(affines, dtype=np.float64).reshape(batch, 2, 3)), scores


def whole_image_bbox(image: np.ndarray) -> np.ndarray:
    """The person box of a LIP image: the whole image, xyxy, as ``LIPPoseDataset`` defines it."""
    height, width = image.shape[:2]
    return np.array([0, 0, width, height], dtype=np.float32)


def network_outputs(model, inputs) -> tuple:
    """The network of a top-down model on a normalised batch, as a flat tuple of tensors (what export traces).

    ``head.forward(extract_feat(inputs))``: heatmaps, ``(heatmaps,)``; MSPN's list of stage outputs, of which
    the test uses the last, ``(last,)``; an integral-regression head's (PoseFix) ``(coords, heatmaps)``.
    For PoseFix, ``inputs`` are the image channels followed by the rendered coarse-pose maps.
    """
    outputs = model.head.forward(model.extract_feat(inputs))
    if isinstance(outputs, list):
        return (outputs[-1],)
    return tuple(outputs) if isinstance(outputs, tuple) else (outputs,)


def head_output_kind(model, inputs) -> str:
    """How the head's forward packs its outputs (``'tensor'``, ``'list'``, ``'tuple'``), for the exported copy."""
    outputs = model.head.forward(model.extract_feat(inputs))
    return 'list' if isinstance(outputs, list) else 'tuple' if isinstance(outputs, tuple) else 'tensor'


def use_exported_network(model, network, input_channels: Sequence[int], head_output: str):
    """Run ``model``'s network through ``network`` (an exported copy); everything around it stays the model's.

    ``model.predict`` still runs the flip test (mirrored input, flipped-back outputs, joint swap), the head's
    decoding and the mapping to original pixels; only ``extract_feat`` + ``head.forward`` are replaced, by
    ``network`` applied to the input's channel groups (image, and PoseFix's coarse-pose maps) with its outputs
    packed as the head's forward packs them. The model's own layers are dropped (their weights are unused).

    Args:
        model: a top-down model built from the config the network was exported from.
        network: callable on tensors, one per channel group, returning the tensors of :func:`network_outputs`
            (one tensor, or a tuple).
        input_channels: channels of each network input, e.g. ``(3,)`` or ``(3, 16)``.
        head_output: :func:`head_output_kind` of the exported model.
    """
    import torch

    def extract_feat(inputs):
        outputs = network(*torch.split(inputs, list(input_channels), dim=1))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        if head_output == 'list':
            return [outputs[-1]]
        return tuple(outputs) if head_output == 'tuple' else outputs[0]

    model.backbone = None
    if getattr(model, 'neck', None) is not None:
        model.neck = None
    model.extract_feat = extract_feat
    model.head.forward = lambda feats: feats
    return model


class PoseHeatmapPredictor:
    """Heatmaps (flip-averaged) and joints in original pixels for batches of decoded images.

    Args:
        model: a top-down MMPose model in eval mode with its config at ``model.cfg`` (see
            :func:`build_pose_model`); HRNet, MSPN and PoseFix configs all work.
        flip: flip test (mirror, flip back with LIP's left/right swap, average).
        pipeline: test pipeline; default: the config's ``test_dataloader`` pipeline.

    Examples:
        >>> predictor = PoseHeatmapPredictor.from_config(cfg_path, ckpt_path)  # doctest: +SKIP
        >>> batch = predictor.predict([cv2.imread('val_images/1_1.jpg')])  # doctest: +SKIP
        >>> batch.heatmaps.shape, batch.keypoints.shape  # doctest: +SKIP
        ((1, 16, 96, 72), (1, 16, 2))
    """

    def __init__(self, model, flip: bool = True, pipeline: Optional[Sequence[dict]] = None):
        from mmengine.dataset import Compose
        from mmengine.registry import init_default_scope
        from mmpose.datasets.datasets.utils import parse_pose_metainfo

        from .datasets import LIP_POSE_METAINFO_FILE
        from .models import PoseFixEstimator

        cfg = getattr(model, 'cfg', None)
        if pipeline is None:
            if cfg is None:
                raise LipToolkitError('the model has no config (build it with build_pose_model), pass pipeline=')
            pipeline = cfg.test_dataloader.dataset.pipeline
        init_default_scope('mmpose')
        self.model = model
        self.flip = flip
        self.pipeline = Compose([dict(step) for step in pipeline])
        self.flip_indices = list(parse_pose_metainfo(dict(from_file=LIP_POSE_METAINFO_FILE))['flip_indices'])
        self.test_cfg = dict(model.test_cfg, flip_test=flip, output_heatmaps=True)
        self.is_posefix = isinstance(model, PoseFixEstimator)

    @classmethod
    def from_config(cls, config, checkpoint=None, flip: bool = True, device: Optional[str] = None,
                    cfg_options: Optional[dict] = None, backend: str = 'pytorch') -> 'PoseHeatmapPredictor':
        """Build the model of ``config`` (path or Config), load ``checkpoint`` safely, wrap it.

        With ``backend='onnxruntime'``, ``checkpoint`` is a ``.onnx`` file written by ``lip-toolkit export`` from
        this config; it runs the network (:func:`use_exported_network`), the config everything else.
        """
        from ..deploy.runtime import check_backend_file
        cfg = _as_config(config, cfg_options)
        check_backend_file(checkpoint, backend)
        if backend != 'onnxruntime':
            return cls(build_pose_model(cfg, checkpoint, device), flip=flip)
        from ..deploy.runtime import OnnxRuntimeNetwork
        network = OnnxRuntimeNetwork(checkpoint, device=device, config=cfg, track='pose')
        model = use_exported_network(build_pose_model(cfg, None, 'cpu'), network, network.input_channels,
                                     network.metadata['head_output'])
        return cls(model, flip=flip)

    @property
    def device(self):
        return next(self.model.parameters()).device

    def predict(self, images: Sequence[np.ndarray], bboxes: Optional[Sequence[np.ndarray]] = None,
                coarse_keypoints: Optional[np.ndarray] = None) -> HeatmapBatch:
        """Predict a batch.

        Args:
            images: decoded images, each H x W x 3 uint8 BGR (sizes may differ).
            bboxes: person boxes (x1, y1, x2, y2) in original pixels; default the whole image.
            coarse_keypoints: (B, 16, 2) poses to refine, original pixels, ``nan`` = missing (PoseFix only).

        Returns:
            HeatmapBatch
        """
        import torch

        saved_cfg = self.model.test_cfg
        self.model.test_cfg = self.test_cfg
        try:
            with torch.no_grad():
                data = self.model_inputs(images, bboxes, coarse_keypoints)
                results = self.model.predict(data['inputs'], data['data_samples'])
        finally:
            self.model.test_cfg = saved_cfg
        heatmaps = np.stack([_to_numpy(r.pred_fields.heatmaps) for r in results]).astype(np.float32)
        height, width = heatmaps.shape[-2:]
        affines = np.stack([heatmap_affine(r.metainfo['input_center'], r.metainfo['input_scale'], (width, height))
                            for r in results])
        keypoints = np.stack([_to_numpy(r.pred_instances.keypoints)[0, :, :2] for r in results])
        scores = np.stack([_to_numpy(r.pred_instances.keypoint_scores)[0] for r in results])
        return HeatmapBatch(heatmaps=heatmaps, affines=affines, keypoints=keypoints.astype(np.float64),
                            scores=scores.astype(np.float64))


    def model_inputs(self, images: Sequence[np.ndarray], bboxes: Optional[Sequence[np.ndarray]] = None,
                     coarse_keypoints: Optional[np.ndarray] = None) -> dict:
        """The config's test pipeline and the model's data preprocessor on a batch: ``{'inputs', 'data_samples'}``.

        Arguments as :meth:`predict`.
        """
        from mmengine.dataset import pseudo_collate

        if self.is_posefix and coarse_keypoints is None:
            raise LipToolkitError('a PoseFix model refines poses: pass coarse_keypoints (--input PRED.csv)')
        samples = []
        for index, image in enumerate(images):
            info = dict(img=image, img_path=None, id=index, img_id=index,
                        bbox=np.asarray(bboxes[index] if bboxes is not None else whole_image_bbox(image),
                                        dtype=np.float32).reshape(1, 4),
                        bbox_score=np.ones(1, dtype=np.float32), flip_indices=self.flip_indices)
            if coarse_keypoints is not None:
                info['coarse_keypoints'] = np.asarray(coarse_keypoints[index], dtype=np.float32).reshape(1, -1, 2)
            samples.append(self.pipeline(info))
        return self.model.data_preprocessor(pseudo_collate(samples), False)


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _drop_pretrained(node) -> None:
    """Weights come from the checkpoint: never read an ImageNet file named in an ``init_cfg``."""
    if isinstance(node, dict):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') in ('Pretrained', 'ConvertedPretrained'):
            node['init_cfg'] = None
        for value in node.values():
            _drop_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _drop_pretrained(value)


def build_pose_model(cfg, checkpoint=None, device: Optional[str] = None):
    """Build the pose model of an MMPose config in eval mode, ``checkpoint`` loaded strictly and safely.

    The config is kept at ``model.cfg`` (as MMPose's ``init_model`` does) for :class:`PoseHeatmapPredictor`.
    """
    import torch
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from ..core.checkpoint import load_checkpoint
    from ..registration import register_all_modules

    register_all_modules(parsing=False)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    model_cfg = cfg.model.copy()
    _drop_pretrained(model_cfg)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        if not Path(checkpoint).is_file():
            raise LipToolkitError('checkpoint not found', checkpoint)
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.cfg = cfg
    return model.to(torch.device(_resolve_device(device))).eval()


def split_items(cfg, split: str = 'val', data_root=None) -> List[Dict]:
    """The images of a LIP split, in dataset order: name, path, person box and ground truth (or None).

    The dataset is the config's ``test_dataloader`` dataset (a ``LIPPoseDataset``) with ``split`` and, if given,
    ``data_root`` replaced.
    """
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    from ..registration import register_all_modules

    register_all_modules(parsing=False)
    init_default_scope('mmpose')
    dataset_cfg = dict(cfg.test_dataloader.dataset)
    if dataset_cfg.get('type') != 'LIPPoseDataset':
        raise LipToolkitError(f"test_dataloader.dataset must be a LIPPoseDataset to evaluate on LIP, got "
                              f"{dataset_cfg.get('type')!r}")
    dataset_cfg.update(split=split, pipeline=[], test_mode=True)
    if data_root is not None:
        if not Path(data_root).is_dir():
            raise LipToolkitError('LIP data folder not found', data_root)
        dataset_cfg['data_root'] = str(data_root)
    dataset = DATASETS.build(dataset_cfg)
    items = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        raw = info.get('raw_ann_info') or {}
        items.append(dict(name=raw.get('image_name') or osp.basename(info['img_path']), path=info['img_path'],
                          bbox=np.asarray(info['bbox'], dtype=np.float32).reshape(4),
                          gt=raw.get('lip_keypoints')))
    return items


def _coarse_poses(input_csv, names: Sequence[str]) -> np.ndarray:
    """The rows of ``input_csv`` for ``names`` (matched by image name), (N, 16, 2) with ``nan`` = missing."""
    from .lip_csv import image_key, read_lip_pred_csv

    csv_names, coords = read_lip_pred_csv(input_csv)
    by_name = {image_key(name): row for name, row in zip(csv_names, coords)}
    missing = [name for name in names if image_key(name) not in by_name]
    if missing:
        raise LipToolkitError(f'{len(missing)} of {len(names)} images have no row, e.g. {missing[0]}', input_csv)
    return np.stack([by_name[image_key(name)] for name in names]).astype(np.float64)


def evaluate_checkpoint(config, checkpoint, flip: bool = True, out=None, input_csv=None, split: str = 'val',
                        data_root=None, batch_size: int = 8, device: Optional[str] = 'cpu',
                        cfg_options: Optional[dict] = None, backend: str = 'pytorch') -> dict:
    """Predict a LIP split with a checkpoint, write the LIP CSV, and score PCKh where ground truth exists.

    With a PoseFix config, ``input_csv`` (any LIP-format predictions CSV) is the pose to refine; the scores of
    the input are returned too (``input_PCKh``...). In a distributed run each rank predicts a share of the images
    and rank 0 writes and scores.

    Args:
        config: config path (or a path under ``configs/``) or an mmengine Config.
        checkpoint: the weights (loaded with :func:`lip_toolkit.core.checkpoint.load_checkpoint`).
        flip: flip test.
        out: CSV to write (LIP submission format, original pixels, dataset order).
        input_csv: predictions to refine (PoseFix configs only).
        split: ``'val'``, ``'train'`` or ``'test'`` (test: no scores).
        data_root: LIP release folder; default the config's.
        batch_size: images per forward pass.
        device: ``'cpu'``, ``'cuda'``... (None: cuda when available).
        cfg_options: config overrides.
        backend: ``'pytorch'``, or ``'onnxruntime'`` with ``checkpoint`` an exported ``.onnx`` file.

    Returns:
        dict: ``PCKh`` (= ``Mean``), ``Head`` ... ``Ankle``, ``UBody``, ``Mean``, ``per_joint`` (percentages,
        None where nothing is scored; absent for the test split), ``num_images``, ``num_scored_images``, ``out``,
        ``table`` (the printable PCKh table), and for refinement the same scores of the input prefixed ``input_``.
    """
    from ..core.image_io import read_image_bgr
    from ..core.launch import rank_and_world
    from ..core.progress import progress
    from .evaluation import format_pckh_table, pckh_json
    from .lip_csv import write_lip_pred_csv
    from .metrics import compute_lip_pckh, count_scored_images

    cfg = _as_config(config, cfg_options)
    predictor = PoseHeatmapPredictor.from_config(cfg, checkpoint, flip=flip, device=device, backend=backend)
    if predictor.is_posefix and input_csv is None:
        raise LipToolkitError('a PoseFix config refines predictions: pass the CSV to refine (--input PRED.csv)')
    if not predictor.is_posefix and input_csv is not None:
        raise LipToolkitError('--input (poses to refine) needs a PoseFix config', config if isinstance(
            config, (str, Path)) else None)
    items = split_items(cfg, split, data_root)
    names = [item['name'] for item in items]
    coarse = _coarse_poses(input_csv, names) if input_csv is not None else None

    rank, world = rank_and_world()
    mine = list(range(rank, len(items), world))
    keypoints = np.full((len(items), NUM_JOINTS, 2), np.nan)
    chunks = [mine[i:i + batch_size] for i in range(0, len(mine), batch_size)]
    for chunk in progress(chunks, total=len(chunks), desc=f'pose {split}', unit='batch'):
        images = [read_image_bgr(items[i]['path']) for i in chunk]
        result = predictor.predict(images, bboxes=[items[i]['bbox'] for i in chunk],
                                   coarse_keypoints=coarse[chunk] if coarse is not None else None)
        keypoints[chunk] = result.keypoints
    if world > 1:
        from mmengine.dist import all_gather_object
        for part in all_gather_object(keypoints):
            done = ~np.isnan(part).all(axis=(1, 2))
            keypoints[done] = part[done]
        if rank != 0:
            return {}

    summary = dict(num_images=len(items), out=None)
    if out is not None:
        summary['out'] = str(write_lip_pred_csv(out, names, keypoints))
    if items[0]['gt'] is None:
        summary['table'] = f'{len(items)} {split} images predicted (no ground truth: not scored)'
        return summary
    gt = np.stack([item['gt'] for item in items])
    # score what a submission holds: integer pixels, clipped at 0
    scores = compute_lip_pckh(gt, np.round(np.clip(keypoints, 0, None)))
    summary.update(pckh_json(scores), PCKh=pckh_json(scores)['Mean'], num_scored_images=count_scored_images(gt))
    table = format_pckh_table(scores, scored_images=summary['num_scored_images'], total_images=len(items))
    if coarse is not None:
        input_scores = pckh_json(compute_lip_pckh(gt, coarse))
        summary.update({f'input_{key}': value for key, value in input_scores.items()})
        summary['input_PCKh'] = input_scores['Mean']
        table = format_pckh_table(compute_lip_pckh(gt, coarse), title='input', per_joint=False) + '\n' + table
    summary['table'] = table
    return summary
