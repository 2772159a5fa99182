"""Parsing ensembles: members' logits (or class probabilities) averaged at each image's original size.

Every member runs through :class:`~lip_toolkit.parsing.inference.ParsingLogitPredictor`, the path ``evaluate``
uses: its own input size and scales, flip with the 14<->15, 16<->17, 18<->19 channel swap, and its output
resized (bilinear) to the image's original size. That original size is the common grid the members are
averaged on, whatever their input sizes or output strides. ``average='logits'`` averages raw logits (the
seed's 62.17 -> 64.00); ``'softmax'`` averages each member's per-pass class probabilities (64.13).

It streams: a batch of images is decoded once, each member's output for that batch is added into one running
weighted sum and dropped, so at most one member's output for one batch is held beside the sum. Ground truth is
read once per image and each member's argmax is scored in the same pass (one confusion matrix per member), so
the table shows members beside the ensemble without running anything twice. Memory does not grow with the
number of images: confusion matrices are 20 x 20, PNGs are written as they are made.
"""
from typing import Dict, List, Optional

import numpy as np

from ..core.errors import LipToolkitError
from ..core.progress import progress
from ..core.launch import all_reduce_sum, output_directory
from ..core.ensemble import accumulate, format_member_table, split_batches, versus_best_member
from ..ensemble_config import EnsembleSpec


def combine_outputs(outputs: List[np.ndarray], weights: List[float]) -> np.ndarray:
    """The weighted average of members' ``(C, H, W)`` outputs (weights already summing to 1).

    Zero weights are skipped and a weight of exactly 1 does not multiply, so one member alone (or with
    zero-weight companions) gives back its own output bit for bit.

    Example:
        >>> a, b = np.array([[[1.0]], [[3.0]]]), np.array([[[3.0]], [[1.0]]])
        >>> combine_outputs([a, b], [0.25, 0.75])[:, 0, 0].tolist()
        [2.5, 1.5]
    """
    total = None
    for output, weight in zip(outputs, weights):
        total = accumulate(total, output, weight)
    if total is None:
        raise ValueError('no member has a positive weight')
    return total


def _check_outputs(member_name: str, outputs, images) -> None:
    for output, image in zip(outputs, images):
        if output.shape[1:] != image.shape[:2]:
            raise LipToolkitError(f'member {member_name!r} returned {output.shape[1:]} for a {image.shape[:2]} '
                                  'image (expected the original size)')


class ParsingEnsemble:
    """The members of a parsing ensemble spec, run together on batches of decoded images.

    The one implementation of the parsing ensemble: :func:`ensemble_parsing` runs it over a LIP split,
    :func:`lip_toolkit.predict.predict` over users' images.

    Args:
        spec: the ensemble (track ``'parsing'``).
        device: torch device; default CUDA when available.
        batch_size: images per forward pass of each member.
        score_all: also run the zero-weight members (they do not vote; their outputs go to ``on_output``).
    """

    def __init__(self, spec: EnsembleSpec, device: Optional[str] = None, batch_size: int = 4,
                 score_all: bool = False):
        from .inference import ParsingLogitPredictor
        from ..core.runner import load_config

        if spec.track != 'parsing':
            raise LipToolkitError(f'not a parsing ensemble (track {spec.track!r})', spec.source)
        self.spec = spec
        self.weights = spec.normalised_weights()
        active = [k for k, weight in enumerate(self.weights) if weight > 0 or score_all]
        self.predictors = {k: ParsingLogitPredictor.from_config(
            load_config(spec.members[k].config, spec.members[k].cfg_options), spec.members[k].checkpoint,
            device=device, flip=spec.member_flip(spec.members[k]), scales=spec.member_scales(spec.members[k]),
            output=spec.average, batch_size=batch_size) for k in active}
        num_classes = {p.num_classes for p in self.predictors.values()}
        if len(num_classes) != 1:
            raise LipToolkitError(f'members predict different numbers of classes: {sorted(num_classes)}',
                                  spec.source)
        self.num_classes = num_classes.pop()

    def __call__(self, images, on_output=None) -> List[np.ndarray]:
        """The weighted sum of the members' ``(C, H, W)`` outputs for each image, at its original size.

        ``on_output(k, index, output)`` sees each member's output for each image (e.g. to score it) before it is
        added and dropped: at most one member's outputs for the batch are held beside the sums.
        """
        totals = [None] * len(images)
        for k, predictor in self.predictors.items():
            outputs = predictor(images)
            _check_outputs(self.spec.members[k].name, outputs, images)
            for index, output in enumerate(outputs):
                if on_output is not None:
                    on_output(k, index, output)
                totals[index] = accumulate(totals[index], output, self.weights[k])
            del outputs  # one member's batch at a time
        return totals


def ensemble_parsing(spec: EnsembleSpec, split: str = 'val', data_root=None, out=None,
                     device: Optional[str] = None, batch_size: int = 4) -> Dict:
    """Run a parsing ensemble over a LIP split; score members and ensemble when the split has labels.

    Args:
        spec: the ensemble (track ``'parsing'``).
        split: ``'val'``, ``'train'`` or ``'test'``.
        data_root: LIP release folder; default the first member config's.
        out: folder for the ensemble's ``<id>.png`` label maps (paletted, values = class ids, original size),
            the format ``evaluate --out`` writes and ``evaluate parsing`` / ``submit parsing`` read.
        device: torch device; default CUDA when available.
        batch_size: images per batch (decoded once, run through every member).

    Returns:
        ``{'track': 'parsing', 'split', 'num_images', 'average', 'members': [{'name', 'weight', 'flip',
        'scales', 'mIoU', ...}], 'ensemble': {'mIoU', 'pixel_acc', 'mean_acc', 'IoU'}, 'table', 'out'}``; the
        scores only when the split has labels.
    """
    from ..core.image_io import read_image_bgr
    from ..core.launch import rank_and_world
    from ..core.runner import load_config
    from .classes import IGNORE_INDEX, LIP_CLASSES
    from .inference import split_items
    from .label_io import read_label_map, write_label_png
    from .metrics import confusion_matrix, miou_from_confusion

    if spec.track != 'parsing':
        raise LipToolkitError(f'not a parsing ensemble (track {spec.track!r})', spec.source)
    world = rank_and_world()[1]
    if device is None and world > 1:
        import torch
        device = f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu'
    items = split_items(load_config(spec.members[0].config, spec.members[0].cfg_options), split, data_root)
    has_labels = split != 'test' and all(item['seg_map_path'] for item in items)
    # A zero-weight member does not vote: it runs only to be scored, so not at all without labels.
    ensemble = ParsingEnsemble(spec, device=device, batch_size=batch_size, score_all=has_labels)
    weights, num_classes = ensemble.weights, ensemble.num_classes
    conf = np.zeros((len(spec.members) + 1, num_classes, num_classes), dtype=np.int64)  # members, ensemble

    batches = split_batches(items, batch_size)
    bar = progress(total=sum(len(chunk) for _, chunk in batches), desc=f'ensemble parsing {split}', unit='img')
    with output_directory(out) as png_dir:
        for _, chunk in batches:
            images = [read_image_bgr(item['img_path']) for item in chunk]
            gts = [read_label_map(item['seg_map_path'], 'gt', shape=image.shape[:2], num_classes=num_classes)
                   for item, image in zip(chunk, images)] if has_labels else None

            def score_member(k, index, output):
                conf[k] += confusion_matrix(gts[index], output.argmax(axis=0).astype(np.uint8),
                                            num_classes=num_classes, ignore_index=IGNORE_INDEX)
            totals = ensemble(images, on_output=score_member if has_labels else None)
            for index, item in enumerate(chunk):
                labels = totals[index].argmax(axis=0).astype(np.uint8)
                if has_labels:
                    conf[-1] += confusion_matrix(gts[index], labels, num_classes=num_classes,
                                                 ignore_index=IGNORE_INDEX)
                if png_dir is not None:
                    write_label_png(png_dir / f"{item['id']}.png", labels, paletted=True)
            bar.update(len(chunk))
    bar.close()
    conf = all_reduce_sum(conf)

    class_names = LIP_CLASSES if num_classes == len(LIP_CLASSES) else [str(i) for i in range(num_classes)]
    members = []
    for k, (member, weight) in enumerate(zip(spec.members, weights)):
        entry = dict(name=member.name, weight=weight, flip=spec.member_flip(member),
                     scales=list(spec.member_scales(member)))
        if has_labels:
            entry.update(miou_from_confusion(conf[k], class_names))
        members.append(entry)
    result: Dict = dict(track='parsing', split=split, num_images=len(items), average=spec.average,
                        members=members)
    if has_labels:
        result['ensemble'] = miou_from_confusion(conf[-1], class_names)
        rows = [(m['name'], f"{m['weight']:.2f}", m) for m in members]
        rows.append((f'ensemble ({spec.average})', '', result['ensemble']))
        result['versus_best'] = versus_best_member(members, result['ensemble'], 'mIoU', 'ensemble')
        table = format_member_table(rows, [('mIoU', 'mIoU'), ('pixel acc', 'pixel_acc'), ('mean acc', 'mean_acc')])
        result['table'] = table + '\n' + result['versus_best']['line']
    if out is not None:
        result['out'] = str(out)
    return result
