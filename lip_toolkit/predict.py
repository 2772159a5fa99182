"""Run a LIP model on your own images: keypoints (JSON + LIP CSV) or parsing PNGs, plus overlay pictures.

This is the API behind ``lip-toolkit predict``. Images may be any size and any common format (see
:func:`lip_toolkit.core.image_io.read_image_bgr`); each image is one person, as in LIP (the person box is the
whole image). The model runs through the same predictors ``evaluate`` uses
(:class:`~lip_toolkit.pose.inference.PoseHeatmapPredictor`,
:class:`~lip_toolkit.parsing.inference.ParsingLogitPredictor`), so a picture predicted here gets exactly the
numbers the evaluation would give it.

Output layout (the folder is built aside and swapped in complete; an existing non-empty ``OUT`` is replaced as
a whole, and only with ``overwrite``)::

    OUT/keypoints.csv             pose: one LIP CSV row per image (``<stem>.jpg,x0,y0,...,x15,y15``, integers)
    OUT/keypoints/<stem>.json     pose: joints in original pixels (floats) with names and confidences
    OUT/parsing/<stem>.png        parsing: label map, pixel = class id (paletted PNG with the LIP colours)
    OUT/overlays/<stem>.png       skeleton, or colour-coded parsing with a legend, drawn on the image
"""
import functools
import json
import tempfile
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from .core.errors import LipToolkitError
from .visualization.pose import DEFAULT_KPT_THR

#: Parsing: images whose longer side exceeds this are predicted on a downscaled copy and the labels scaled
#: back (nearest neighbour). The model sees a few hundred pixels anyway; full-size logits of a 12-megapixel
#: photo would need about 1 GB per image.
PARSING_MAX_SIDE = 1600


def _unique_stems(paths: Sequence[Path]) -> None:
    seen: Dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise LipToolkitError(f'two inputs share the name {path.stem!r} ({seen[path.stem]} and {path}); '
                                  f'outputs are named after it, so rename one', path)
        seen[path.stem] = path


def _check_output_folder(out_dir: Path) -> None:
    """Refuse, before any model loads, an output folder that cannot be created or written.

    Nothing is created here: the folder appears only once there is something to put in it. Write access is
    tried with a temporary file in the folder (or its nearest existing parent), which also catches read-only
    file systems and holds for root, whom permission bits do not stop.
    """
    existing = out_dir
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = 'output exists and is not a folder' if existing == out_dir else f'{existing} is a file, not a folder'
        raise LipToolkitError(what, out_dir)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        where = 'output folder' if existing == out_dir else f'cannot create the output folder: {existing}'
        raise LipToolkitError(f'{where} is not writable ({exc.strerror or exc})', out_dir) from None


def _readable_images(paths: Sequence[Path], on_error: str, skipped: List[dict]) -> List[Path]:
    """The images whose header opens; with ``on_error='skip'`` the others go to ``skipped``, else the first
    stops the run (before any model loads)."""
    from .core.image_io import probe_image
    readable = []
    for path in paths:
        try:
            probe_image(path)
        except LipToolkitError as exc:
            if on_error != 'skip':
                raise
            skipped.append({'image': str(path), 'error': exc.one_line()})
        else:
            readable.append(path)
    return readable


def _chunks(items: list, size: int) -> List[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class _PosePredictor:
    """Pose from one config + checkpoint, or from an ensemble file."""

    def __init__(self, config, checkpoint, flip, device, cfg_options, backend='pytorch'):
        from .pose.inference import PoseHeatmapPredictor
        self.predictor = PoseHeatmapPredictor.from_config(config, checkpoint, flip=flip, device=device,
                                                          cfg_options=cfg_options, backend=backend)
        if self.predictor.is_posefix:
            raise LipToolkitError('a PoseFix config refines the joints of another model; predict with a pose '
                                  'estimator config (HRNet, MSPN)', getattr(config, 'filename', None))

    def __call__(self, images):
        batch = self.predictor.predict(images)
        return batch.keypoints, batch.scores


class _ParsingPredictor:
    def __init__(self, config, checkpoint, flip, scales, device, cfg_options, batch_size, backend='pytorch'):
        from .parsing.inference import ParsingLogitPredictor
        self.predictor = ParsingLogitPredictor.from_config(config, checkpoint, device=device,
                                                           cfg_options=cfg_options, flip=flip, scales=scales,
                                                           batch_size=batch_size, backend=backend)

    def __call__(self, images):
        return [logits.argmax(axis=0).astype(np.uint8) for logits in self.predictor(images)]


class _PoseEnsemblePredictor:
    """The final joints of :class:`lip_toolkit.pose.ensemble.PoseEnsemble` (refined if the spec has a refiner)."""

    def __init__(self, spec, device):
        from .pose.ensemble import PoseEnsemble
        self.ensemble = PoseEnsemble(spec, device=device)

    def __call__(self, images):
        outputs = self.ensemble.predict(images)
        return outputs['refined'] if outputs['refined'] is not None else outputs['ensemble']


class _ParsingEnsemblePredictor:
    """The argmax of :class:`lip_toolkit.parsing.ensemble.ParsingEnsemble`'s weighted sum."""

    def __init__(self, spec, device, batch_size):
        from .parsing.ensemble import ParsingEnsemble
        self.ensemble = ParsingEnsemble(spec, device=device, batch_size=batch_size)

    def __call__(self, images):
        return [total.argmax(axis=0).astype(np.uint8) for total in self.ensemble(images)]


def _shrunk(image: np.ndarray, max_side: int) -> np.ndarray:
    import cv2
    height, width = image.shape[:2]
    ratio = max_side / max(height, width)
    if ratio >= 1:
        return image
    size = (max(1, int(round(width * ratio))), max(1, int(round(height * ratio))))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _labels_at(labels: np.ndarray, shape) -> np.ndarray:
    import cv2
    if labels.shape == tuple(shape):
        return labels
    return cv2.resize(labels, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def _pose_json(path: Path, image: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> str:
    """The per-image JSON text: image facts, then one joint a line (name, x, y in original pixels, score).

    Coordinates are the model's, unclipped: a joint predicted outside the picture keeps its position (the LIP
    CSV clips negatives to 0, as a submission must).
    """
    from .visualization.pose import LIP_JOINT_NAMES

    def number(value, digits):
        return None if not np.isfinite(value) else round(float(value), digits)
    joints = [json.dumps({'name': name, 'x': number(x, 2), 'y': number(y, 2), 'score': number(score, 4)})
              for name, (x, y), score in zip(LIP_JOINT_NAMES, keypoints, scores)]
    header = {'image': path.name, 'width': int(image.shape[1]), 'height': int(image.shape[0])}
    head = json.dumps(header)[:-1]  # open the object to append the joints
    return head + ', "joints": [\n  ' + ',\n  '.join(joints) + '\n]}\n'


def _without_host_warnings(func):
    """Hide two MMSeg warnings that every parsing model prints and that say nothing about the user's input."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message=r'When align_corners=True')
            warnings.filterwarnings('ignore', message=r'``build_loss`` would be deprecated')
            return func(*args, **kwargs)
    return wrapper


@_without_host_warnings
def predict(inputs: Sequence, out_dir, config=None, checkpoint=None, ensemble=None, device: Optional[str] = None,
            flip: Optional[bool] = None, scales: Optional[Sequence[float]] = None, batch_size: int = 4,
            overlays: bool = True, cfg_options: Optional[dict] = None, on_error: str = 'stop',
            kpt_thr: float = DEFAULT_KPT_THR, backend: str = 'pytorch', overwrite: bool = False) -> dict:
    """Predict every image of ``inputs`` with a pose or parsing model and write the results to ``out_dir``.

    Args:
        inputs: image files and/or folders (a folder contributes the images directly inside it).
        out_dir: output folder, built aside and swapped in complete; one that holds files is refused unless
            ``overwrite`` (then replaced as a whole, never mixed with the new files).
        config: model config (path, or path under ``configs/``); its ``default_scope`` picks the track.
        checkpoint: the weights for ``config`` (loaded safely, strictly).
        ensemble: an ensemble file (``configs/ensembles/*.py``, ``.json``, ``.yaml``) or an ``EnsembleSpec``,
            instead of ``config`` + ``checkpoint``; members are combined as ``lip-toolkit ensemble`` does.
        device: ``'cpu'``, ``'cuda'``, ``'cuda:N'``; default CUDA when available.
        flip: flip test; default on for pose (as ``evaluate``), off for parsing; with an ensemble, overrides
            the file's setting.
        scales: parsing test scales (factors on the config's input size), logits averaged; default ``(1.0,)``
            (an ensemble: the file's).
        batch_size: images per forward pass.
        overlays: also draw ``overlays/<stem>.png``.
        cfg_options: config overrides.
        on_error: an unreadable image: ``'stop'`` the run with its error (found before the model loads when its
            header is bad), or ``'skip'`` it and list it in the result.
        kpt_thr: pose overlays leave out joints whose confidence is below this, with their limbs (the JSON and
            CSV keep every joint and its score).
        backend: ``'pytorch'``, or ``'onnxruntime'`` with ``checkpoint`` a ``.onnx`` file from ``lip-toolkit export``
            (same test-time geometry, flip and scales; single models only).

    Returns:
        ``{'track', 'num_images' (predicted), 'out_dir', 'csv' (pose), 'files': [per-image outputs],
        'skipped': [{'image', 'error'}]}``.

    Raises:
        LipToolkitError: no or unreadable inputs, two inputs with the same stem, an output folder that cannot be
            written (checked before the model loads), a bad config or checkpoint.
    """
    from .core.image_io import collect_images
    from .core.io import atomic_directory, check_output
    from .core.progress import info

    if ensemble is not None and backend != 'pytorch':
        raise LipToolkitError('--backend onnxruntime runs one exported model (CONFIG MODEL.onnx), not an ensemble')
    if ensemble is not None and (config is not None or checkpoint is not None):
        raise LipToolkitError('give either CONFIG and CHECKPOINT or an ensemble file, not both')
    if ensemble is None and (config is None or checkpoint is None):
        raise LipToolkitError('give CONFIG and CHECKPOINT, or an ensemble file')
    if batch_size < 1:
        raise LipToolkitError(f'batch size must be at least 1, got {batch_size}')
    if on_error not in ('stop', 'skip'):
        raise LipToolkitError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    if not kpt_thr >= 0:
        raise LipToolkitError(f'keypoint score threshold must be 0 or more, got {kpt_thr}')
    if checkpoint is not None and not Path(checkpoint).is_file():
        raise LipToolkitError('checkpoint not found', checkpoint)
    if isinstance(ensemble, (str, Path)) and not Path(ensemble).is_file():
        raise LipToolkitError('ensemble file not found', ensemble)
    paths = collect_images(inputs)
    _unique_stems(paths)
    out_dir = Path(out_dir)
    _check_output_folder(out_dir)
    check_output(out_dir, overwrite)
    skipped: List[dict] = []
    paths = _readable_images(paths, on_error, skipped)
    if not paths:
        raise LipToolkitError(f'no readable image among {len(skipped)}; first: {skipped[0]["error"]}')

    if ensemble is not None:
        from .ensemble_config import EnsembleSpec, load_ensemble
        if cfg_options:
            raise LipToolkitError('--cfg-options applies to a single CONFIG; set cfg_options per ensemble member')
        spec = ensemble if isinstance(ensemble, EnsembleSpec) else load_ensemble(ensemble, flip=flip,
                                                                                 scales=scales)
        track, source = spec.track, Path(str(spec.source or 'ensemble')).name
        model = _PoseEnsemblePredictor(spec, device) if track == 'pose' else _ParsingEnsemblePredictor(
            spec, device, batch_size)
    else:
        from .core.runner import config_track, load_config
        cfg = load_config(config, cfg_options)
        track, source = config_track(cfg, config), Path(str(config)).name
        if track == 'pose':
            if scales is not None:
                raise LipToolkitError('--scales applies to parsing models only')
            model = _PosePredictor(cfg, checkpoint, True if flip is None else flip, device, None, backend)
        else:
            model = _ParsingPredictor(cfg, checkpoint, bool(flip), tuple(scales or (1.0,)), device, None,
                                      batch_size, backend)
    info(f'{track} model {source}: {len(paths)} image(s) -> {out_dir}')

    with atomic_directory(out_dir) as staging:
        result = _predict_into(staging, out_dir, paths, model, track, batch_size, overlays, kpt_thr, on_error,
                               skipped)
    return result


def _predict_into(staging: Path, out_dir: Path, paths, model, track, batch_size, overlays, kpt_thr, on_error,
                  skipped) -> dict:
    """Write every output into ``staging`` (swapped in as ``out_dir``); the result names the final paths."""
    from .core.image_io import read_image_bgr, write_image
    from .core.io import atomic_write
    from .core.progress import progress

    names, all_keypoints, files = [], [], []
    bar = progress(total=len(paths), desc=f'predict {track}', unit='img')
    for chunk in _chunks(paths, batch_size):
        decoded = []
        for path in chunk:
            try:
                decoded.append((path, read_image_bgr(path)))
            except LipToolkitError as exc:  # damage the header did not show (a truncated file)
                if on_error != 'skip':
                    raise
                skipped.append({'image': str(path), 'error': exc.one_line()})
        bar.update(len(chunk) - len(decoded))
        if not decoded:
            continue
        chunk, images = [path for path, _ in decoded], [image for _, image in decoded]
        if track == 'pose':
            keypoints, scores = model(images)
            for path, image, points, confidence in zip(chunk, images, keypoints, scores):
                json_path = f'keypoints/{path.stem}.json'
                with atomic_write(staging / json_path, 'w', encoding='utf-8') as handle:
                    handle.write(_pose_json(path, image, points, confidence))
                record = {'image': str(path), 'keypoints': str(out_dir / json_path)}
                if overlays:
                    from .visualization.pose import draw_pose
                    write_image(staging / 'overlays' / f'{path.stem}.png',
                                draw_pose(image, points, scores=confidence, kpt_thr=kpt_thr))
                    record['overlay'] = str(out_dir / 'overlays' / f'{path.stem}.png')
                names.append(path.stem)  # rows are named <stem>.jpg, like LIP's ids
                all_keypoints.append(points)
                files.append(record)
        else:
            from .parsing.label_io import write_label_png
            small = [_shrunk(image, PARSING_MAX_SIDE) for image in images]
            for path, image, labels in zip(chunk, images, model(small)):
                labels = _labels_at(labels, image.shape[:2])
                png_path = f'parsing/{path.stem}.png'
                write_label_png(staging / png_path, labels, paletted=True)
                record = {'image': str(path), 'parsing': str(out_dir / png_path)}
                if overlays:
                    from .visualization.parsing import render_parsing
                    write_image(staging / 'overlays' / f'{path.stem}.png', render_parsing(image, labels))
                    record['overlay'] = str(out_dir / 'overlays' / f'{path.stem}.png')
                files.append(record)
        bar.update(len(chunk))
    bar.close()

    if not files:
        raise LipToolkitError(f'no readable image among {len(skipped)}; first: {skipped[0]["error"]}')
    result = {'track': track, 'num_images': len(files), 'out_dir': str(out_dir), 'files': files,
              'skipped': skipped}
    if track == 'pose':
        from .pose.lip_csv import write_lip_pred_csv
        write_lip_pred_csv(staging / 'keypoints.csv', names, np.stack(all_keypoints))
        result['csv'] = str(out_dir / 'keypoints.csv')
    return result
