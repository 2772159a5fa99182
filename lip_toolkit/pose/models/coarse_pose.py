"""The coarse input pose of PoseFix: synthesised from ground truth for training, read from a CSV for refinement.

PoseFix (Moon et al., CVPR 2019) learns to correct the typical errors of pose estimators. At training time it sees
the ground-truth pose corrupted by the error kinds of the reference ``synthesize_pose`` (good, jitter, miss,
inversion, swap); at test time the pose of any other estimator. The radii of the error kinds come from the OKS
keypoint similarity: ``d(ks) = sqrt(-2 * area * (2 * sigma_j)^2 * ln ks)``, the distance at which a joint with OKS
constant ``sigma_j`` in a person of ``area`` pixels has similarity ``ks``.

The reference's per-joint probability tables are written for COCO's 17 joints; here they are re-indexed for LIP's
16 (MPII order). Groups that have no LIP joint (eyes, ears) are dropped; LIP's head top and neck take the face
rows, pelvis and spine the hip rows.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix

from ..datasets import LIP_POSE_METAINFO_FILE

# LIP joint ids (MPII order): 0 r_ank 1 r_kne 2 r_hip 3 l_hip 4 l_kne 5 l_ank 6 pelvis 7 spine 8 neck 9 head top
# 10 r_wri 11 r_elb 12 r_sho 13 l_sho 14 l_elb 15 l_wri.
# Jitter (reference: nose/knees/ankles 0.10, eyes/ears/upper body 0.15, hips 0.20; +0.05 when <= 10 joints valid).
_JITTER_LOW = (0, 1, 4, 5, 9)                 # ankles, knees, head top (the nose's row)
_JITTER_HIGH = (2, 3, 6, 7)                   # hips, pelvis, spine
# Miss (reference: face 0.02, shoulders + ankles 0.05, others 0.10; higher when few joints are valid).
_MISS_FACE = (8, 9)
_MISS_SHOULDER_ANKLE = (0, 5, 12, 13)
# Inversion and swap (reference: face / upper body / lower body).
_UPPER_BODY = (10, 11, 12, 13, 14, 15)
# The reference's probabilities, re-indexed: (face, upper body, lower body).
_INVERSION_PROB = (0.01, 0.03, 0.06)
_SWAP_PROB = (0.01, 0.06, 0.03)
_SWAP_PROB_CROWD = (0.02, 0.15, 0.10)

ERROR_KINDS = ('jitter', 'miss', 'inversion', 'swap', 'good')


def ks_radius(ks: float, area: float, sigmas: np.ndarray) -> np.ndarray:
    """Distance (pixels) at which a joint's keypoint similarity drops to ``ks``, per joint."""
    return np.sqrt(-2.0 * area * (2.0 * sigmas) ** 2 * np.log(ks))


def _body_part(joint: int) -> int:
    """0 face, 1 upper body, 2 lower body: the reference's row for inversion and swap."""
    if joint in _MISS_FACE:
        return 0
    return 1 if joint in _UPPER_BODY else 2


def error_probabilities(joint: int, num_valid: int, crowded: bool) -> Dict[str, float]:
    """The reference's prior probability of each error kind for one joint (before feasibility)."""
    few = num_valid <= 10
    if joint in _JITTER_LOW:
        jitter = 0.15 if few else 0.10
    elif joint in _JITTER_HIGH:
        jitter = 0.25 if few else 0.20
    else:
        jitter = 0.20 if few else 0.15
    miss_row = 0 if joint in _MISS_FACE else 1 if joint in _MISS_SHOULDER_ANKLE else 2
    if num_valid <= 5:
        miss = (0.15, 0.20, 0.25)[miss_row]
    elif few:
        miss = (0.10, 0.13, 0.15)[miss_row]
    else:
        miss = (0.02, 0.05, 0.10)[miss_row]
    part = _body_part(joint)
    inversion = _INVERSION_PROB[part]
    swap = (_SWAP_PROB_CROWD if crowded else _SWAP_PROB)[part]
    good = 1.0 - (jitter + miss + inversion + swap)
    return dict(jitter=jitter, miss=miss, inversion=inversion, swap=swap, good=good)


def _sample_around(rng, anchors, r_min, r_max, count):
    """``count`` points per anchor, uniform in angle and radius in [r_min, r_max]; returns points and radii."""
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    angle = rng.uniform(0, 2 * np.pi, (len(anchors), count))
    radius = rng.uniform(r_min, r_max, (len(anchors), count))
    points = anchors[:, None, :] + radius[..., None] * np.stack([np.cos(angle), np.sin(angle)], -1)
    return points.reshape(-1, 2), radius.reshape(-1)


def _far_from(points, others, min_dist):
    """Mask of points farther than ``min_dist`` (scalar or per point) from every point of ``others``."""
    if len(others) == 0:
        return np.ones(len(points), dtype=bool)
    dist = np.linalg.norm(points[:, None, :] - np.asarray(others)[None, :, :], axis=-1)
    return (dist > np.reshape(min_dist, (-1, 1))).all(axis=1)


def synthesize_coarse_pose(keypoints: np.ndarray,
                           visible: np.ndarray,
                           area: float,
                           sigmas: np.ndarray,
                           flip_indices: Sequence[int],
                           rng: np.random.Generator,
                           nearby_keypoints: Optional[np.ndarray] = None,
                           nearby_visible: Optional[np.ndarray] = None,
                           estimated_keypoints: Optional[np.ndarray] = None,
                           num_overlap: int = 0,
                           candidates: int = 64):
    """Corrupt a ground-truth pose with PoseFix's error kinds.

    Args:
        keypoints: (K, 2) ground-truth coordinates (pixels of the space the model sees).
        visible: (K,) > 0 where the joint is labelled.
        area: the person's area in the same pixels (the reference uses the box area).
        sigmas: (K,) OKS constants.
        flip_indices: symmetric joint of each joint (itself when none).
        rng: random generator.
        nearby_keypoints: (M, K, 2) joints of other people near this one (swap errors), optional.
        nearby_visible: (M, K) their labels.
        estimated_keypoints: (K, 2) another model's estimate used for unlabelled joints, optional; without it an
            unlabelled joint stays missing (its input heatmap is empty).
        num_overlap: number of overlapping people (the reference's crowd test).
        candidates: candidate points sampled per anchor and error kind.

    Returns:
        tuple: (coarse (K, 2), coarse_visible (K,) float, kinds list[str | None]).
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    labelled = np.asarray(visible).reshape(-1) > 0
    num_joints = len(keypoints)
    anchors = keypoints.copy()
    has_anchor = labelled.copy()
    if estimated_keypoints is not None:
        estimated = np.asarray(estimated_keypoints, dtype=np.float64)
        fill = ~labelled & np.isfinite(estimated).all(axis=1)
        anchors[fill] = estimated[fill]
        has_anchor |= fill
    if nearby_keypoints is None:
        nearby_keypoints = np.zeros((0, num_joints, 2))
        nearby_visible = np.zeros((0, num_joints))
    nearby_visible = np.asarray(nearby_visible).reshape(len(nearby_keypoints), num_joints) > 0
    num_valid = int(labelled.sum())
    crowded = (num_valid <= 10 and num_overlap > 0) or (num_valid <= 15 and num_overlap >= 3)
    d10, d50, d85 = (ks_radius(ks, area, np.asarray(sigmas, dtype=np.float64)) for ks in (0.10, 0.50, 0.85))

    coarse = np.zeros((num_joints, 2))
    coarse_visible = np.zeros(num_joints)
    kinds = [None] * num_joints
    for j in range(num_joints):
        if not has_anchor[j]:
            continue
        gt = anchors[j][None]
        pair = flip_indices[j]
        inv = anchors[pair][None] if pair != j and labelled[pair] else np.zeros((0, 2))
        swap = nearby_keypoints[nearby_visible[:, j], j]
        swap_inv = nearby_keypoints[nearby_visible[:, pair], pair] if pair != j else np.zeros((0, 2))
        swaps = np.concatenate([swap, swap_inv]).reshape(-1, 2)
        others_of_gt = np.concatenate([inv, swaps])

        options = {}
        # good: within d85 of the truth, closer to it than to any other anchor
        pts, r = _sample_around(rng, gt, 0, d85[j], candidates)
        options['good'] = pts[_far_from(pts, others_of_gt, r)]
        # jitter: between d85 and d50 of the truth
        pts, r = _sample_around(rng, gt, d85[j], d50[j], candidates)
        options['jitter'] = pts[_far_from(pts, others_of_gt, r)]
        # miss: between d50 and d10 of any anchor, far (> d50) from every anchor
        all_anchors = np.concatenate([gt, inv, swaps])
        pts, _ = _sample_around(rng, all_anchors, d50[j], d10[j], candidates)
        options['miss'] = pts[_far_from(pts, all_anchors, d50[j])]
        # inversion: near the symmetric joint
        if len(inv):
            pts, r = _sample_around(rng, inv, 0, d50[j], candidates)
            options['inversion'] = pts[_far_from(pts, np.concatenate([gt, swaps]), r)]
        # swap: near the same (or symmetric) joint of a nearby person, closer to it than to this person's
        if len(swaps):
            pts, r = _sample_around(rng, swaps, 0, d50[j], candidates)
            options['swap'] = pts[_far_from(pts, np.concatenate([gt, inv]), r)]

        prior = error_probabilities(j, num_valid, crowded)
        feasible = [k for k in ERROR_KINDS if k in options and len(options[k]) and prior[k] > 0]
        if not feasible:
            continue
        weights = np.array([prior[k] for k in feasible])
        kind = feasible[rng.choice(len(feasible), p=weights / weights.sum())]
        coarse[j] = options[kind][rng.integers(len(options[kind]))]
        coarse_visible[j] = 1.0
        kinds[j] = kind
    return coarse, coarse_visible, kinds


@TRANSFORMS.register_module()
class SynthesizeCoarsePose(BaseTransform):
    """Make PoseFix's training input pose from the ground truth, in the model's input space.

    Runs after ``TopdownAffine`` (as the reference does after its crop): the area is the box area in input pixels.

    Required keys: ``transformed_keypoints``, ``keypoints_visible``, ``bbox``, ``input_scale``, ``input_size``;
    optional ``flip_indices`` (else from the metainfo).
    Added keys: ``transformed_coarse_keypoints`` (1, K, 2), ``coarse_keypoints_visible`` (1, K).

    Args:
        metainfo (str): dataset metainfo file with the OKS ``sigmas`` and the flip pairs.
        candidates (int): candidate points sampled per anchor and error kind.
        seed (int, optional): make each sample's pose a function of ``seed`` and the sample's ``id`` (for
            reproducible validation); by default every call draws anew (training), from numpy's global random
            state, which mmengine seeds (``randomness.seed``) per run and per dataloader worker, so a seeded
            training run is reproducible.
    """

    def __init__(self, metainfo: str = LIP_POSE_METAINFO_FILE, candidates: int = 64, seed: Optional[int] = None):
        super().__init__()
        info = parse_pose_metainfo(dict(from_file=metainfo))
        self.sigmas = np.asarray(info['sigmas'], dtype=np.float64)
        self.flip_indices = list(info['flip_indices'])
        self.candidates = candidates
        self.seed = seed

    def transform(self, results: dict) -> dict:
        keypoints = results['transformed_keypoints'][0, :, :2]
        visible = np.asarray(results['keypoints_visible'])
        if visible.ndim == 3:  # KeypointConverter (COCO, AIC) stacks (visible, weight) on a last axis
            visible = visible[..., 0]
        visible = visible.reshape(-1)
        input_w, input_h = results['input_size']
        bbox = np.asarray(results['bbox']).reshape(-1)
        scale = np.asarray(results['input_scale']).reshape(-1)
        # the box's area in input pixels (the affine scales x by input_w / scale_w, y by input_h / scale_h)
        area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]) * (input_w / scale[0]) * (input_h / scale[1])
        inside = ((keypoints >= 0) & (keypoints < [input_w, input_h])).all(axis=1)
        if self.seed is not None:
            rng = np.random.default_rng([self.seed, abs(int(results.get('id', results.get('img_id', 0)) or 0))])
        else:
            # A generator of its own, seeded from the global state (an unseeded one made seeded runs differ).
            rng = np.random.default_rng(np.random.randint(0, 2 ** 31 - 1))
        coarse, coarse_visible, _ = synthesize_coarse_pose(
            keypoints, (visible > 0) & inside, max(area, 1.0), self.sigmas,
            results.get('flip_indices', self.flip_indices), rng, candidates=self.candidates)
        results['transformed_coarse_keypoints'] = coarse[None].astype(np.float32)
        results['coarse_keypoints_visible'] = coarse_visible[None].astype(np.float32)
        return results


@TRANSFORMS.register_module()
class CoarsePoseToInput(BaseTransform):
    """Map a given coarse pose (``coarse_keypoints``, original pixels, NaN = missing) into the input space.

    Runs after ``TopdownAffine`` and uses the same warp (``input_center``, ``input_scale``, ``bbox_rotation``).

    Required keys: ``coarse_keypoints`` (1, K, 2), ``input_center``, ``input_scale``, ``input_size``.
    Added keys: ``transformed_coarse_keypoints`` (1, K, 2), ``coarse_keypoints_visible`` (1, K).
    """

    def transform(self, results: dict) -> dict:
        coarse = np.asarray(results['coarse_keypoints'], dtype=np.float32).reshape(1, -1, 2)
        rotation = float(np.asarray(results.get('bbox_rotation', [0.0])).reshape(-1)[0])
        warp = get_warp_matrix(np.asarray(results['input_center']), np.asarray(results['input_scale']),
                               rotation, output_size=results['input_size'])
        valid = np.isfinite(coarse).all(axis=-1)
        transformed = np.zeros_like(coarse)
        homogeneous = np.concatenate([coarse[valid], np.ones((int(valid.sum()), 1), np.float32)], axis=1)
        transformed[valid] = homogeneous @ warp.T.astype(np.float32)
        results['transformed_coarse_keypoints'] = transformed
        results['coarse_keypoints_visible'] = valid.astype(np.float32)
        return results


@TRANSFORMS.register_module()
class PackPoseFixInputs(PackPoseInputs):
    """``PackPoseInputs`` that also carries the coarse input pose (input space) in the sample's metainfo."""

    COARSE_KEYS = ('transformed_coarse_keypoints', 'coarse_keypoints_visible')

    def __init__(self, meta_keys: Optional[Sequence[str]] = None, pack_transformed: bool = False):
        if meta_keys is None:
            meta_keys = PackPoseInputs.__init__.__defaults__[0]
        super().__init__(meta_keys=tuple(meta_keys) + self.COARSE_KEYS, pack_transformed=pack_transformed)
