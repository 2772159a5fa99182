"""The faster training-target pieces equal MMPose's: LIPRandomBBoxTransform and LIPMSRAHeatmap."""
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpose.codecs import MSRAHeatmap
from mmpose.codecs.utils.gaussian_heatmap import generate_gaussian_heatmaps
from mmpose.datasets.transforms import RandomBBoxTransform
from mmpose.registry import KEYPOINT_CODECS, TRANSFORMS

from lip_toolkit.pose.datasets.transforms import (LIPMSRAHeatmap, LIPRandomBBoxTransform,
                                                  gaussian_heatmaps_vectorised)


@pytest.mark.parametrize('sigma,size', [(3, (72, 96)), (4, (96, 128)), (2.0, (48, 64)), (2.5, (48, 64)),
                                        (1, (24, 32))])
def test_vectorised_heatmaps_equal_mmpose_including_borders_and_unlabelled(sigma, size):
    rng = np.random.default_rng(int(sigma * 10))
    width, height = size
    for _ in range(40):
        # joints well outside the map too, so windows are clipped or dropped (weight 0)
        keypoints = rng.uniform(-4 * sigma, [width + 4 * sigma, height + 4 * sigma], (1, 16, 2))
        visible = (rng.random((1, 16)) > 0.2).astype(np.float32)
        expected, expected_weights = generate_gaussian_heatmaps(size, keypoints, visible, sigma)
        heatmaps, weights = gaussian_heatmaps_vectorised(size, keypoints, visible, sigma)
        assert heatmaps.dtype == expected.dtype and heatmaps.shape == expected.shape
        np.testing.assert_array_equal(weights, expected_weights)
        np.testing.assert_allclose(heatmaps, expected, rtol=0, atol=1e-6)
        assert (heatmaps.reshape(16, -1).max(axis=1) > 0).sum() == (expected.reshape(16, -1).max(axis=1) > 0).sum()


def test_codec_encodes_like_msra_and_decodes_with_it():
    config = dict(input_size=(288, 384), heatmap_size=(72, 96), sigma=3)
    with DefaultScope.overwrite_default_scope('mmpose'):  # other tests may leave mmseg's scope behind
        ours = KEYPOINT_CODECS.build(dict(type='LIPMSRAHeatmap', **config))
    theirs = MSRAHeatmap(**config)
    assert isinstance(ours, LIPMSRAHeatmap)
    keypoints = np.random.default_rng(0).uniform(0, [288, 384], (1, 16, 2))
    visible = np.ones((1, 16), np.float32)
    visible[0, 3] = 0
    encoded, expected = ours.encode(keypoints, visible), theirs.encode(keypoints, visible)
    np.testing.assert_allclose(encoded['heatmaps'], expected['heatmaps'], atol=1e-6)
    np.testing.assert_array_equal(encoded['keypoint_weights'], expected['keypoint_weights'])
    decoded, _ = ours.decode(encoded['heatmaps'])
    labelled = visible[0] > 0
    assert np.abs(decoded[0, labelled] - keypoints[0, labelled]).max() < 4 * 1.0  # one heatmap pixel = 4 px
    # unbiased (DARK) targets are MMPose's own code path
    dark = dict(config, unbiased=True)
    np.testing.assert_array_equal(LIPMSRAHeatmap(**dark).encode(keypoints, visible)['heatmaps'],
                                  MSRAHeatmap(**dark).encode(keypoints, visible)['heatmaps'])


def test_truncated_normal_has_mmpose_distribution():
    np.random.seed(0)
    draws = LIPRandomBBoxTransform._truncnorm(size=(200_000,))
    assert draws.dtype == np.float32 and draws.shape == (200_000,)
    assert -1 <= draws.min() and draws.max() <= 1
    # standard normal truncated to [-1, 1]: mean 0, std 0.5396 (scipy.stats.truncnorm(-1, 1).std())
    assert abs(draws.mean()) < 0.005 and abs(draws.std() - 0.5396) < 0.005
    assert LIPRandomBBoxTransform._truncnorm(size=(2, 4)).shape == (2, 4)
    with pytest.raises(ValueError):
        LIPRandomBBoxTransform._truncnorm(1.0, -1.0, size=(1,))


def test_bbox_transform_is_mmpose_transform_with_the_same_arguments():
    with DefaultScope.overwrite_default_scope('mmpose'):  # other tests may leave mmseg's scope behind
        transform = TRANSFORMS.build(dict(type='LIPRandomBBoxTransform', shift_prob=0.0, rotate_prob=1.0))
    assert isinstance(transform, RandomBBoxTransform)
    np.random.seed(1)
    results = transform(dict(bbox_center=np.array([[100., 150.]], np.float32),
                             bbox_scale=np.array([[200., 300.]], np.float32)))
    np.testing.assert_array_equal(results['bbox_center'], [[100., 150.]])  # shift_prob 0
    scale = results['bbox_scale'] / np.array([[200., 300.]])
    assert 0.5 <= scale[0, 0] <= 1.5 and scale[0, 0] == pytest.approx(scale[0, 1])  # MMPose default range
    assert 0 < abs(results['bbox_rotation'][0]) <= 80.0
