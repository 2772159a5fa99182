"""PoseFix as an MMPose plugin: coarse-pose synthesis and transforms, map rendering, head loss, estimator, backbone."""
import numpy as np
import pytest
import torch

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.pose.models import (CoarsePoseToInput, PoseFixEstimator, PoseFixHead, PoseFixResNet,
                                     SynthesizeCoarsePose, bilinear_onehot_targets, render_pose_maps,
                                     synthesize_coarse_pose)
from lip_toolkit.pose.models.coarse_pose import ERROR_KINDS, error_probabilities, ks_radius

LIP_FLIP = [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]
LIP_SIGMAS = np.array([0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062, 0.072, 0.179,
                       0.179, 0.072, 0.062])
TINY_POSEFIX = 'configs/demo/pose_posefix-tiny_lip-128x96.py'


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


@pytest.fixture(autouse=True)
def _mmpose_scope():
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')


def _standing_pose():
    """A plausible upright LIP pose in a 200x400 box (x, y)."""
    return np.array([[80, 380], [82, 300], [85, 220], [115, 220], [118, 300], [120, 380], [100, 220], [100, 160],
                     [100, 100], [100, 50], [50, 200], [60, 150], [75, 105], [125, 105], [140, 150], [150, 200]],
                    dtype=np.float64)


# ---------------------------------------------------------------------------------------------------------------
# synthesis of training poses
# ---------------------------------------------------------------------------------------------------------------
def test_error_probabilities_are_the_reference_rows_reindexed_for_lip():
    for joint in range(16):
        for num_valid in (3, 8, 16):
            for crowded in (False, True):
                prior = error_probabilities(joint, num_valid, crowded)
                assert set(prior) == set(ERROR_KINDS)
                assert abs(sum(prior.values()) - 1) < 1e-9 and min(prior.values()) >= 0
    # reference values (COCO rows) carried over: knees/ankles jitter 0.10, hips 0.20, wrists (upper body) 0.15
    assert error_probabilities(1, 16, False)['jitter'] == pytest.approx(0.10)
    assert error_probabilities(2, 16, False)['jitter'] == pytest.approx(0.20)
    assert error_probabilities(10, 16, False)['jitter'] == pytest.approx(0.15)
    # miss: head (face row) 0.02, shoulders and ankles 0.05, elbows 0.10; more when few joints are labelled
    assert [error_probabilities(j, 16, False)['miss'] for j in (9, 12, 0, 11)] == pytest.approx([.02, .05, .05, .10])
    assert error_probabilities(11, 4, False)['miss'] == pytest.approx(0.25)
    # inversion: upper body 0.03, lower body 0.06; swap in crowds: upper body 0.15
    assert error_probabilities(14, 16, False)['inversion'] == pytest.approx(0.03)
    assert error_probabilities(4, 16, False)['inversion'] == pytest.approx(0.06)
    assert error_probabilities(13, 8, True)['swap'] == pytest.approx(0.15)


def test_synthesized_errors_lie_in_their_reference_radii():
    pose = _standing_pose()
    area = 200 * 400
    rng = np.random.default_rng(0)
    d10, d50, d85 = (ks_radius(ks, area, LIP_SIGMAS) for ks in (0.10, 0.50, 0.85))
    seen = {kind: 0 for kind in ERROR_KINDS}
    for _ in range(300):
        coarse, visible, kinds = synthesize_coarse_pose(pose, np.ones(16), area, LIP_SIGMAS, LIP_FLIP, rng)
        assert visible.all()
        dist = np.linalg.norm(coarse - pose, axis=1)
        for j, kind in enumerate(kinds):
            seen[kind] += 1
            if kind == 'good':
                assert dist[j] <= d85[j] + 1e-6
            elif kind == 'jitter':
                assert d85[j] - 1e-6 <= dist[j] <= d50[j] + 1e-6
            elif kind == 'miss':
                assert dist[j] > d50[j] and dist[j] <= d10[j] + np.linalg.norm(pose[LIP_FLIP[j]] - pose[j]) + 1e-6
            elif kind == 'inversion':
                assert LIP_FLIP[j] != j
                assert np.linalg.norm(coarse[j] - pose[LIP_FLIP[j]]) <= d50[j] + 1e-6
    # no other person: swaps are infeasible and renormalised away, as in the reference
    assert seen['swap'] == 0
    assert seen['good'] > seen['jitter'] > 0 and seen['miss'] > 0 and seen['inversion'] > 0


def test_swap_needs_a_nearby_person_and_unlabelled_joints_stay_missing():
    pose = _standing_pose()
    visible = np.ones(16)
    visible[3] = 0
    other = pose[None] + np.array([60.0, 0.0])
    rng = np.random.default_rng(1)
    swaps = 0
    for _ in range(200):
        coarse, coarse_visible, kinds = synthesize_coarse_pose(
            pose, visible, 200 * 400, LIP_SIGMAS, LIP_FLIP, rng, nearby_keypoints=other,
            nearby_visible=np.ones((1, 16)), num_overlap=3)
        assert coarse_visible[3] == 0 and kinds[3] is None
        for j, kind in enumerate(kinds):
            if kind == 'swap':
                swaps += 1
                near = min(np.linalg.norm(coarse[j] - other[0, j]), np.linalg.norm(coarse[j] - other[0, LIP_FLIP[j]]))
                assert near <= ks_radius(0.5, 200 * 400, LIP_SIGMAS)[j] + 1e-6
    assert swaps > 0
    # another model's estimate stands in for an unlabelled joint
    estimate = pose.copy()
    coarse, coarse_visible, _ = synthesize_coarse_pose(pose, visible, 200 * 400, LIP_SIGMAS, LIP_FLIP, rng,
                                                       estimated_keypoints=estimate)
    assert coarse_visible[3] == 1


def _affine_results(keypoints):
    from mmcv.transforms import Compose
    pipeline = Compose([dict(type='GetBBoxCenterScale'), dict(type='TopdownAffine', input_size=(96, 128))])
    image = np.zeros((400, 200, 3), np.uint8)
    return pipeline(dict(img=image, bbox=np.array([[0, 0, 200, 400]], np.float32), bbox_score=np.ones(1),
                         keypoints=keypoints[None].astype(np.float32), keypoints_visible=np.ones((1, 16)),
                         flip_indices=LIP_FLIP))


def test_coarse_pose_to_input_uses_the_crop_warp():
    pose = _standing_pose()
    results = _affine_results(pose)
    coarse = pose.copy()
    coarse[5] = np.nan
    results['coarse_keypoints'] = coarse[None]
    results = CoarsePoseToInput()(results)
    expected = results['transformed_keypoints'][0]
    got = results['transformed_coarse_keypoints'][0]
    assert np.allclose(np.delete(got, 5, 0), np.delete(expected, 5, 0), atol=1e-3)
    assert results['coarse_keypoints_visible'][0].tolist() == [1.0] * 5 + [0.0] + [1.0] * 10


def test_synthesize_transform_works_in_input_pixels():
    results = SynthesizeCoarsePose()(_affine_results(_standing_pose()))
    coarse = results['transformed_coarse_keypoints']
    assert coarse.shape == (1, 16, 2) and results['coarse_keypoints_visible'].shape == (1, 16)
    # errors are a fraction of the (input-space) person, not of the 200x400 original
    assert np.median(np.linalg.norm(coarse[0] - results['transformed_keypoints'][0], axis=1)) < 20
    # with a seed, a sample's pose depends only on the seed and the sample id (reproducible validation)
    seeded = [SynthesizeCoarsePose(seed=0)(dict(_affine_results(_standing_pose()), id=7)) for _ in range(2)]
    other = SynthesizeCoarsePose(seed=0)(dict(_affine_results(_standing_pose()), id=8))
    assert np.array_equal(seeded[0]['transformed_coarse_keypoints'], seeded[1]['transformed_coarse_keypoints'])
    assert not np.array_equal(seeded[0]['transformed_coarse_keypoints'], other['transformed_coarse_keypoints'])
    # COCO / AI Challenger samples leave KeypointConverter with (visible, weight) pairs: unlabelled stays missing
    converted = _affine_results(_standing_pose())
    visible = np.ones((1, 16, 2))
    visible[0, 9, 0] = 0
    converted['keypoints_visible'] = visible
    converted = SynthesizeCoarsePose()(converted)
    assert converted['coarse_keypoints_visible'][0].tolist() == [1.0] * 9 + [0.0] + [1.0] * 6


def test_unseeded_synthesis_follows_the_global_seed_that_mmengine_sets():
    """Training draws a new pose every call, yet a run seeded through ``randomness.seed`` is reproducible."""
    def draws(global_seed):
        np.random.seed(global_seed)
        transform = SynthesizeCoarsePose()
        return [transform(_affine_results(_standing_pose()))['transformed_coarse_keypoints'] for _ in range(3)]

    state = np.random.get_state()
    try:
        first, again, other = draws(0), draws(0), draws(1)
    finally:
        np.random.set_state(state)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])  # a new pose every call
    assert not np.array_equal(first[0], other[0])


# ---------------------------------------------------------------------------------------------------------------
# rendering, targets, loss
# ---------------------------------------------------------------------------------------------------------------
def test_render_pose_maps_peaks_at_the_joint_and_masks_missing_ones():
    coords = torch.tensor([[[10.0, 20.0], [3.0, 4.0]]])
    maps = render_pose_maps(coords, torch.tensor([[1.0, 0.0]]), (32, 40), sigma=2.0, peak=5.0)
    assert maps.shape == (1, 2, 40, 32)
    assert maps[0, 0, 20, 10] == pytest.approx(5.0)
    assert maps[0, 0, 20, 12] == pytest.approx(5.0 * np.exp(-0.5))
    assert maps[0, 1].abs().max() == 0


def test_bilinear_onehot_target_has_the_point_as_its_mean():
    coords = torch.tensor([[[3.25, 7.5], [0.0, 0.0], [-3.0, 2.0]]])
    target = bilinear_onehot_targets(coords, (8, 10)).view(1, 3, 10, 8)
    assert target[0, 0].sum() == pytest.approx(1.0) and target[0, 1].sum() == pytest.approx(1.0)
    ys, xs = torch.meshgrid(torch.arange(10.0), torch.arange(8.0), indexing='ij')
    assert (target[0, 0] * xs).sum() == pytest.approx(3.25) and (target[0, 0] * ys).sum() == pytest.approx(7.5)
    assert target[0, 0, 7, 3] == pytest.approx(0.75 * 0.5)
    assert target[0, 2].sum() == 0  # off the map


def _sample(labels, weights=None, coarse=None, size=(96, 128)):
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    coarse = np.full((1, 16, 2), 40.0) if coarse is None else coarse
    sample = PoseDataSample(metainfo=dict(
        transformed_coarse_keypoints=coarse, coarse_keypoints_visible=np.ones((1, 16)), flip_indices=LIP_FLIP,
        input_size=size, input_center=np.array([48.0, 64.0]), input_scale=np.array([96.0, 128.0])))
    sample.gt_instance_labels = InstanceData(keypoint_labels=torch.as_tensor(labels, dtype=torch.float32),
                                             keypoint_weights=torch.ones(1, 16) if weights is None else weights)
    sample.gt_instances = InstanceData(bboxes=np.zeros((1, 4)), bbox_scores=np.ones(1))
    return sample


def test_posefix_head_loss_is_cross_entropy_plus_l1_in_heatmap_pixels():
    # no deconvolution and no final layer: the features are the logits
    head = PoseFixHead(in_channels=16, in_featuremap_size=(3, 4), num_joints=16, deconv_out_channels=None,
                       final_layer=None)
    feats = (torch.zeros(1, 16, 4, 3),)  # uniform softmax: coordinates at the centre (1, 1.5)
    labels = np.zeros((1, 16, 2), np.float32)
    labels[0, :, 0] = 2 / 3  # heatmap pixel x = 2
    labels[0, :, 1] = 0.25  # heatmap pixel y = 1
    losses = head.loss(feats, [_sample(labels)])
    assert losses['loss_heatmap'].item() == pytest.approx(np.log(12), rel=1e-5)
    # L1 over x and y, averaged: (|1 - 2| + |1.5 - 1|) / 2
    assert losses['loss_coord'].item() == pytest.approx(0.75, rel=1e-5)
    weights = torch.zeros(1, 16)
    assert head.loss(feats, [_sample(labels, weights)])['loss_heatmap'].item() == 0


def _tiny_posefix():
    from lip_toolkit.pose.inference import _as_config, build_pose_model
    torch.manual_seed(0)
    return build_pose_model(_as_config(TINY_POSEFIX), device='cpu')


def test_posefix_flip_mirrors_the_coarse_pose_and_swaps_sides():
    model = _tiny_posefix()
    coarse = np.random.default_rng(0).uniform(0, 90, (1, 16, 2))
    samples = [_sample(np.zeros((1, 16, 2)), coarse=coarse)]
    image = torch.randn(1, 3, 128, 96)
    plain = model._with_pose_maps(image, samples)
    mirrored = model._with_pose_maps(image, samples, flip=True)
    assert torch.equal(mirrored[:, :3], image.flip(-1))
    assert torch.allclose(mirrored[:, 3:], plain[:, 3:].flip(-1)[:, LIP_FLIP], atol=1e-5)


def test_posefix_estimator_trains_and_predicts_in_original_pixels():
    model = _tiny_posefix()
    model.train()
    labels = np.random.default_rng(1).uniform(0.1, 0.9, (1, 16, 2))
    losses = model.loss(torch.randn(2, 3, 128, 96), [_sample(labels), _sample(labels)])
    assert set(losses) == {'loss_heatmap', 'loss_coord', 'acc_pose'}
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert model.backbone.conv1.weight.grad[:, 3:].abs().sum() > 0  # the pose channels are learnt
    model.eval()
    with torch.no_grad():
        result = model.predict(torch.randn(1, 3, 128, 96), [_sample(labels)])
    keypoints = result[0].pred_instances.keypoints
    assert keypoints.shape == (1, 16, 2)
    assert (keypoints >= 0).all() and (keypoints[..., 0] <= 96).all() and (keypoints[..., 1] <= 128).all()


def test_posefix_without_a_coarse_pose_is_a_clear_error():
    from mmpose.structures import PoseDataSample
    model = _tiny_posefix()
    with pytest.raises(LipToolkitError, match='coarse pose'):
        model.loss(torch.randn(1, 3, 128, 96), [PoseDataSample(metainfo=dict(flip_indices=LIP_FLIP))])


def test_posefix_resnet_loads_imagenet_weights_into_the_image_channels(tmp_path):
    from mmpose.models.backbones import ResNet
    imagenet = ResNet(18, stem_channels=16, base_channels=16)
    checkpoint = tmp_path / 'resnet18_tiny.pth'
    torch.save(imagenet.state_dict(), checkpoint)  # torchvision-style keys, no prefix
    backbone = PoseFixResNet(18, num_pose_channels=16, stem_channels=16, base_channels=16,
                             init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)))
    backbone.init_weights()
    assert backbone.conv1.weight.shape[1] == 19
    assert torch.equal(backbone.conv1.weight[:, :3], imagenet.conv1.weight)
    assert backbone.conv1.weight[:, 3:].abs().sum() == 0
    assert torch.equal(backbone.layer4[1].conv2.weight, imagenet.layer4[1].conv2.weight)


def test_posefix_config_builds_the_registered_parts():
    model = _tiny_posefix()
    assert isinstance(model, PoseFixEstimator) and isinstance(model.head, PoseFixHead)
    assert isinstance(model.backbone, PoseFixResNet)
    assert model.coarse_pose_sigma == 3.0
    # 255 / image std: the reference's 255-peaked maps on unscaled pixels, rescaled like our pixels
    assert model.coarse_pose_peak == pytest.approx(255 / np.mean([58.395, 57.12, 57.375]), rel=1e-4)


def test_posefix_trains_on_lip_coco_and_aic_samples(tmp_path):
    """The PoseFix train pipeline on the joint-training mix (LIP + COCO + AI Challenger mapped to LIP's joints)."""
    from mmengine.dataset import pseudo_collate

    from lip_toolkit.pose.inference import _as_config
    from .test_datasets_mixed import combined

    cfg = _as_config(TINY_POSEFIX)
    dataset, _, _ = combined(tmp_path, pipeline=cfg.train_pipeline)
    samples = [dataset[i] for i in range(3)]
    for sample in samples:
        meta = sample['data_samples'].metainfo
        assert meta['transformed_coarse_keypoints'].shape == (1, 16, 2)
    # COCO has no neck / head top: no coarse input and no target for them
    coco = samples[1]['data_samples']
    assert coco.metainfo['coarse_keypoints_visible'][0, [8, 9]].tolist() == [0, 0]
    assert coco.gt_instance_labels.keypoint_weights[0, [8, 9]].tolist() == [0, 0]
    model = _tiny_posefix().train()
    data = model.data_preprocessor(pseudo_collate(samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(torch.isfinite(v) for v in losses.values())


def test_tiny_mspn_trains_through_the_runner_and_evaluates(synthetic_lip, tmp_path):
    """MSPN's path end to end: multi-level Megvii targets, per-stage losses, Runner, flip-tested evaluation."""
    from lip_toolkit.core.runner import train
    from lip_toolkit.pose.inference import evaluate_checkpoint
    config = 'configs/demo/pose_mspn-tiny_lip-128x96.py'
    work_dir = train(config, work_dir=tmp_path / 'work', data_root=synthetic_lip, cfg_options={
        'train_cfg.max_epochs': 1, 'train_dataloader.dataset.indices': 16, 'randomness': dict(seed=0),
        'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None})
    result = evaluate_checkpoint(config, work_dir / 'epoch_1.pth', data_root=synthetic_lip, out=tmp_path / 'val.csv')
    assert result['num_images'] == 24 and 0 <= result['PCKh'] <= 100
    assert (tmp_path / 'val.csv').read_text().count('\n') == 24
