"""Pose ensembles: members' flip-tested heatmaps averaged on one grid, decoded once, optionally refined by PoseFix.

Every member runs through :class:`~lip_toolkit.pose.inference.PoseHeatmapPredictor`, the path ``evaluate``
uses (its own test pipeline, input size and flip test). Heatmaps of members with other input or heatmap sizes
are resampled with :func:`~lip_toolkit.pose.inference.warp_heatmaps` onto a common grid: that of the voting
member with the finest heatmap (the first such member on ties), through the affines that map each heatmap to
original pixels. The weighted mean is decoded once, with that member's codec, into original pixels. This is
the seed's HRNet + MSPN heatmap averaging (92.0 -> 92.6 with PoseFix); a PoseFix ``refiner`` then refines the
decoded joints on the same decoded images.

It streams: a batch of images is decoded once; each member's heatmaps for the batch are added into one running
sum and dropped. Joints (16 x 2 numbers per image and model) are kept for scoring and the CSV; each member's
own decoded joints are scored in the same pass, beside the ensemble's.
"""
from typing import Dict, List, Optional

import numpy as np

from ..core.errors import LipToolkitError
from ..core.progress import progress
from ..core.launch import all_gather_objects
from ..core.ensemble import accumulate, format_member_table, split_batches, versus_best_member
from ..ensemble_config import EnsembleSpec
from .inference import NUM_JOINTS


def average_heatmaps(heatmaps: List[np.ndarray], affines: List[np.ndarray], weights: List[float],
                     reference: int) -> np.ndarray:
    """Weighted mean of members' heatmaps on the grid of member ``reference``.

    Args:
        heatmaps: per member (B, K, h_m, w_m).
        affines: per member (B, 2, 3) heatmap-pixel -> original-pixel affines.
        weights: per member, summing to 1; zero-weight members are skipped.
        reference: the member whose grid (size and affines) the mean is on.

    Returns:
        (B, K, h_ref, w_ref) float32. Members already on the reference grid are not resampled, so a member
        alone gives back its own heatmaps bit for bit.

    Example:
        >>> grid = np.array([[[1.0, 0, 0], [0, 1.0, 0]]])
        >>> a, b = np.zeros((1, 1, 2, 2), np.float32), np.ones((1, 1, 2, 2), np.float32)
        >>> average_heatmaps([a, b], [grid, grid], [0.75, 0.25], reference=0)[0, 0].tolist()
        [[0.25, 0.25], [0.25, 0.25]]
    """
    target = heatmaps[reference]
    total = None
    for maps, member_affines, weight in zip(heatmaps, affines, weights):
        total = accumulate_heatmaps(total, maps, member_affines, affines[reference], target.shape[-2:], weight)
    if total is None:
        raise ValueError('no member has a positive weight')
    return total


def accumulate_heatmaps(total: Optional[np.ndarray], maps: np.ndarray, member_affines: np.ndarray,
                        ref_affines: np.ndarray, ref_shape, weight: float) -> Optional[np.ndarray]:
    """``total + weight * maps`` with ``maps`` resampled onto the reference grid (``ref_shape`` = (h, w)) if
    it is not already on it; a zero weight leaves ``total`` as it is."""
    from .inference import warp_heatmaps
    if weight == 0:
        return total
    if tuple(maps.shape[-2:]) != tuple(ref_shape) or not np.array_equal(member_affines, ref_affines):
        maps = warp_heatmaps(maps, member_affines, ref_affines, (ref_shape[1], ref_shape[0]))
    return accumulate(total, maps, weight)


def reference_member(predictors: Dict[int, object], weights: List[float]) -> int:
    """The voting member with the finest heatmap (first on ties): its grid is the common one."""
    voting = [k for k in sorted(predictors) if weights[k] > 0]
    areas = {k: int(np.prod((member_codec(predictors[k]) or {}).get('heatmap_size', (0, 0))))
             for k in voting}
    return max(voting, key=lambda k: (areas[k], -k))


def member_codec(predictor) -> Optional[dict]:
    """The member's codec config (what its head decodes with), for decoding the averaged heatmaps."""
    head = predictor.model.cfg.model.get('head') or {}
    decoder = head.get('decoder')
    if isinstance(decoder, (list, tuple)):  # MSPN: one codec per stage; the last one decodes
        decoder = decoder[-1]
    return dict(decoder) if decoder else None


class PoseEnsemble:
    """The models of a pose ensemble spec, run together on batches of decoded images.

    The one implementation of the pose ensemble: :func:`ensemble_pose` runs it over a LIP split,
    :func:`lip_toolkit.predict.predict` over users' images.

    Args:
        spec: the ensemble (track ``'pose'``).
        device: torch device; default CUDA when available.
        score_all: also run the zero-weight members (they do not vote; their joints are returned for scoring).
    """

    def __init__(self, spec: EnsembleSpec, device: Optional[str] = None, score_all: bool = False):
        from ..core.runner import load_config
        from .inference import PoseHeatmapPredictor

        if spec.track != 'pose':
            raise LipToolkitError(f'not a pose ensemble (track {spec.track!r})', spec.source)
        self.spec = spec
        self.weights = spec.normalised_weights()
        active = [k for k, weight in enumerate(self.weights) if weight > 0 or score_all]
        self.predictors = {k: PoseHeatmapPredictor.from_config(
            load_config(spec.members[k].config, spec.members[k].cfg_options), spec.members[k].checkpoint,
            flip=spec.member_flip(spec.members[k]), device=device) for k in active}
        for k, predictor in self.predictors.items():
            if predictor.is_posefix:
                raise LipToolkitError(f'member {spec.members[k].name!r} is a PoseFix model: give it as the refiner',
                                      spec.source)
        self.refiner = None
        if spec.refiner is not None:
            self.refiner = PoseHeatmapPredictor.from_config(
                load_config(spec.refiner.config, spec.refiner.cfg_options), spec.refiner.checkpoint,
                flip=spec.member_flip(spec.refiner), device=device)
            if not self.refiner.is_posefix:
                raise LipToolkitError('the refiner must be a PoseFix config', spec.refiner.config)
        self.voting = [k for k in active if self.weights[k] > 0]
        self.reference = reference_member(self.predictors, self.weights)
        self.codec = member_codec(self.predictors[self.reference])

    def predict(self, images, bboxes=None) -> Dict[str, object]:
        """Run every active member on ``images`` (person boxes ``bboxes``, default the whole images).

        Returns:
            ``{'members': {k: (B, 16, 2)}, 'ensemble': ((B, 16, 2), (B, 16) scores),
            'refined': (joints, scores) or None}``, joints in original pixels. The refiner refines the
            ensemble's decoded joints.
        """
        members = {}
        total = reference_batch = None
        # the reference first: its grid receives the others, one member at a time
        for k in [self.reference] + [k for k in self.predictors if k != self.reference]:
            batch = self.predictors[k].predict(images, bboxes=bboxes)
            members[k] = batch.keypoints
            if k == self.reference:
                reference_batch = batch
            if len(self.voting) > 1:
                total = accumulate_heatmaps(total, batch.heatmaps, batch.affines, reference_batch.affines,
                                            reference_batch.heatmaps.shape[-2:], self.weights[k])
            del batch
        if len(self.voting) == 1:
            # One voting member: its heatmaps are the mean, and its own decode is the ensemble's decode.
            ensemble = reference_batch.keypoints, reference_batch.scores
        else:
            from .inference import decode_heatmaps
            ensemble = decode_heatmaps(total, reference_batch.affines, self.codec)
        del total
        refined = None
        if self.refiner is not None:
            batch = self.refiner.predict(images, bboxes=bboxes, coarse_keypoints=ensemble[0])
            refined = batch.keypoints, batch.scores
        return dict(members=members, ensemble=ensemble, refined=refined)


def ensemble_pose(spec: EnsembleSpec, split: str = 'val', data_root=None, out=None, device: Optional[str] = None,
                  batch_size: int = 8) -> Dict:
    """Run a pose ensemble (and refiner) over a LIP split; score members, ensemble and refinement with labels.

    Args:
        spec: the ensemble (track ``'pose'``).
        split: ``'val'``, ``'train'`` or ``'test'``.
        data_root: LIP release folder; default the first member config's.
        out: the predictions CSV (LIP format, original pixels, dataset order) that ``evaluate pose`` and
            ``submit pose`` read: the refined joints with a refiner, else the ensemble's.
        device: torch device; default CUDA when available (``cuda:N`` of each rank under torchrun), else CPU.
        batch_size: images per batch (decoded once, run through every member).

    Returns:
        ``{'track': 'pose', 'split', 'num_images', 'members': [{'name', 'weight', 'flip', 'PCKh', ...}],
        'ensemble': {...}, 'refined': {...} (with a refiner), 'table', 'out'}``; scores only with labels.
    """
    from ..core.image_io import read_image_bgr
    from ..core.launch import rank_and_world
    from ..core.runner import load_config
    from .evaluation import pckh_json
    from .inference import split_items
    from .lip_csv import write_lip_pred_csv
    from .metrics import compute_lip_pckh

    if spec.track != 'pose':
        raise LipToolkitError(f'not a pose ensemble (track {spec.track!r})', spec.source)
    rank, world = rank_and_world()
    if device is None and world > 1:
        import torch
        device = f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu'
    items = split_items(load_config(spec.members[0].config, spec.members[0].cfg_options), split, data_root)
    has_labels = split != 'test' and all(item['gt'] is not None for item in items)
    # A zero-weight member does not vote: it runs only to be scored, so not at all without labels.
    ensemble = PoseEnsemble(spec, device=device, score_all=has_labels)
    weights = ensemble.weights
    refiner = ensemble.refiner

    # Per model, the joints of this rank's images: members, ensemble, refined.
    num_rows = len(spec.members) + 2
    mine = {}
    batches = split_batches(items, batch_size)
    bar = progress(total=sum(len(chunk) for _, chunk in batches), desc=f'ensemble pose {split}', unit='img')
    for start, chunk in batches:
        images = [read_image_bgr(item['path']) for item in chunk]
        joints = np.full((num_rows, len(chunk), NUM_JOINTS, 2), np.nan)
        outputs = ensemble.predict(images, bboxes=[item['bbox'] for item in chunk])
        for k, member_joints in outputs['members'].items():
            joints[k] = member_joints
        joints[-2] = outputs['ensemble'][0]
        if outputs['refined'] is not None:
            joints[-1] = outputs['refined'][0]
        mine[start] = joints
        bar.update(len(chunk))
    bar.close()

    merged = {}
    for part in all_gather_objects(mine):
        merged.update(part)
    all_joints = np.concatenate([merged[start] for start in sorted(merged)], axis=1) if merged else \
        np.zeros((num_rows, 0, NUM_JOINTS, 2))
    final = all_joints[-1] if refiner is not None else all_joints[-2]
    names = [item['name'] for item in items]
    if out is not None and rank == 0:
        write_lip_pred_csv(out, names, final)

    members = [dict(name=m.name, weight=w, flip=spec.member_flip(m)) for m, w in zip(spec.members, weights)]
    result: Dict = dict(track='pose', split=split, num_images=len(items), members=members)
    if has_labels:
        gt = np.stack([item['gt'] for item in items])

        def score(coords):  # what a submission holds: integer pixels, clipped at 0 (as `evaluate` scores)
            scores = pckh_json(compute_lip_pckh(gt, np.round(np.clip(coords, 0, None))))
            return dict(scores, PCKh=scores['Mean'])

        for k, member in enumerate(members):
            member.update(score(all_joints[k]))
        result['ensemble'] = score(all_joints[-2])
        rows = [(m['name'], f"{m['weight']:.2f}", m) for m in members]
        rows.append(('ensemble (heatmaps)', '', result['ensemble']))
        if refiner is not None:
            result['refined'] = score(all_joints[-1])
            rows.append((f'+ {spec.refiner.name}', '', result['refined']))
        final, final_name = (result['refined'], 'ensemble + refiner') if refiner is not None else \
            (result['ensemble'], 'ensemble')
        result['versus_best'] = versus_best_member(members, final, 'PCKh', final_name)
        result['table'] = format_member_table(rows, _COLUMNS) + '\n' + result['versus_best']['line']
    if out is not None:
        result['out'] = str(out)
    return result


_COLUMNS = (('Head', 'Head'), ('Sho.', 'Shoulder'), ('Elb.', 'Elbow'), ('Wri.', 'Wrist'), ('Hip', 'Hip'),
            ('Knee', 'Knee'), ('Ank.', 'Ankle'), ('U.Body', 'UBody'), ('PCKh', 'Mean'))
