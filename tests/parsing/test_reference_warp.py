"""CE2P's and SCHP's test-time geometry: the affine warp onto the input, the nearest-neighbour warp back, and the
predictor running it. Expected matrices are derived by hand from the references' evaluation code (box
``[0, 0, w-1, h-1]``, input anchor and scale per reference, whole-pixel centre on the way back)."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.inference import ParsingLogitPredictor, unflip_logits
from lip_toolkit.parsing.reference_warp import (backward_index_map, backward_matrix, forward_matrix, warp_image)

from .test_inference import AsymmetricSegmentor, random_image


def expected_forward(height, width, input_hw, warp):
    """Input pixel = k * (image pixel - box centre) + input anchor, the references' map written out."""
    input_h, input_w = input_hw
    aspect = input_w / input_h
    extent = max(width - 1, aspect * (height - 1))
    if warp == 'ce2p':
        k, anchor = input_w / extent, (input_w / 2, input_h / 2)
    else:
        k, anchor = (input_w - 1) / extent, ((input_w - 1) / 2, (input_h - 1) / 2)
    centre = ((width - 1) / 2, (height - 1) / 2)
    return np.array([[k, 0, anchor[0] - k * centre[0]], [0, k, anchor[1] - k * centre[1]]]), k, anchor


@pytest.mark.parametrize('warp', ['ce2p', 'schp'])
@pytest.mark.parametrize('image_hw, input_hw', [((300, 200), (473, 473)), ((200, 300), (473, 473)),
                                                ((101, 101), (473, 473)), ((300, 120), (480, 360)),
                                                ((120, 300), (480, 360))])
def test_forward_matrix_maps_the_box_onto_the_input(warp, image_hw, input_hw):
    expected, _, _ = expected_forward(*image_hw, input_hw, warp)
    np.testing.assert_allclose(forward_matrix(image_hw, input_hw, warp), expected, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize('warp', ['ce2p', 'schp'])
def test_backward_matrix_uses_the_whole_pixel_centre(warp):
    height, width = 301, 200  # box centre (99.5, 150.0): x is truncated to 99, y stays
    _, k, anchor = expected_forward(height, width, (473, 473), warp)
    expected = np.array([[1 / k, 0, 99 - anchor[0] / k], [0, 1 / k, 150 - anchor[1] / k]])
    np.testing.assert_allclose(backward_matrix((height, width), (473, 473), warp), expected, rtol=1e-6, atol=1e-4)


def test_the_two_references_anchor_the_input_differently():
    ce2p = forward_matrix((300, 200), (473, 473), 'ce2p')
    schp = forward_matrix((300, 200), (473, 473), 'schp')
    # the image's top-left corner: CE2P puts the tall side's ends at 0 and 473, SCHP at 0 and 472
    assert cv2.transform(np.float32([[[0, 0]]]), ce2p)[0, 0, 1] == pytest.approx(0.0, abs=1e-4)
    assert cv2.transform(np.float32([[[199, 299]]]), ce2p)[0, 0, 1] == pytest.approx(473.0, abs=1e-3)
    assert cv2.transform(np.float32([[[199, 299]]]), schp)[0, 0, 1] == pytest.approx(472.0, abs=1e-3)


@pytest.mark.parametrize('warp', ['ce2p', 'schp'])
@pytest.mark.parametrize('image_hw', [(300, 200), (57, 90), (64, 64)])
def test_index_map_is_opencvs_nearest_warp(warp, image_hw):
    input_hw = (47, 47)
    labels = np.random.default_rng(0).integers(1, 20, input_hw, dtype=np.uint8)
    reference = cv2.warpAffine(labels, backward_matrix(image_hw, input_hw, warp), image_hw[::-1],
                               flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    index_map = backward_index_map(image_hw, input_hw, warp)
    assert index_map.shape == image_hw
    ours = np.where(index_map >= 0, labels.reshape(-1)[np.clip(index_map, 0, None)], 0)
    np.testing.assert_array_equal(ours, reference)
    # the box covers the image; CE2P maps its far edge one past the last input pixel, so an edge may fall outside
    assert (index_map >= 0).mean() > 0.9


def _reference_labels(model, image, input_hw, warp, flip=False):
    """The references' evaluation written out: warp in, (flip-averaged) logits, argmax, nearest warp back."""
    crop = cv2.warpAffine(image, expected_forward(*image.shape[:2], input_hw, warp)[0], input_hw[::-1],
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    inputs = torch.from_numpy(crop).permute(2, 0, 1)[None].float()
    inputs = (inputs[:, [2, 1, 0]] - model.data_preprocessor.mean) / model.data_preprocessor.std
    with torch.no_grad():
        logits = model.conv(inputs)
        if flip:
            logits = (logits + unflip_logits(model.conv(inputs.flip(-1)))) / 2
    labels = logits[0].argmax(0).numpy().astype(np.uint8)
    return cv2.warpAffine(labels, backward_matrix(image.shape[:2], input_hw, warp), image.shape[1::-1],
                          flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


@pytest.mark.parametrize('warp, flip', [('ce2p', False), ('schp', True)])
def test_predictor_labels_are_the_references(warp, flip):
    model = AsymmetricSegmentor()
    predictor = ParsingLogitPredictor(model, input_size=(64, 64), flip=flip, warp=warp, batch_size=2)
    images = [random_image(90, 50, 1), random_image(41, 77, 2), random_image(64, 64, 3)]
    for image, logits in zip(images, predictor(images)):
        assert logits.shape == (20, *image.shape[:2])
        np.testing.assert_array_equal(logits.argmax(0), _reference_labels(model, image, (64, 64), warp, flip))


def test_a_scale_resizes_the_warped_input_as_schp_does():
    model = AsymmetricSegmentor()
    image = random_image(70, 45, 4)
    crop = torch.from_numpy(warp_image(image, (32, 32), 'schp')).permute(2, 0, 1)[None].float()
    scaled = F.interpolate(crop, scale_factor=0.5, mode='bilinear', align_corners=True)
    with torch.no_grad():
        logits = model.conv((scaled[:, [2, 1, 0]] - model.data_preprocessor.mean) / model.data_preprocessor.std)
    logits = F.interpolate(logits, size=(32, 32), mode='bilinear', align_corners=True)[0].numpy()
    index_map = backward_index_map(image.shape[:2], (32, 32), 'schp')
    expected = np.where(index_map >= 0, logits.reshape(20, -1)[:, np.clip(index_map, 0, None)], 0)
    ours = ParsingLogitPredictor(model, input_size=(32, 32), scales=(0.5,), warp='schp')(image)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_warp_needs_an_input_size_and_a_known_reference():
    with pytest.raises(LipToolkitError, match='input size'):
        ParsingLogitPredictor(AsymmetricSegmentor(), warp='schp')
    with pytest.raises(LipToolkitError, match='warp must be one of'):
        ParsingLogitPredictor(AsymmetricSegmentor(), input_size=(32, 32), warp='affine')
    with pytest.raises(LipToolkitError, match='too small'):
        forward_matrix((1, 1), (32, 32), 'ce2p')


def _hrnet_seg_reference_labels(model, image, input_hw):
    """HRNet-Seg's LIP testval written out: stretch, RGB normalisation, flip averaged in logits, exp(logits)
    resized bilinearly to the original size, argmax."""
    resized = cv2.resize(image, input_hw[::-1], interpolation=cv2.INTER_LINEAR)
    inputs = torch.from_numpy(resized).permute(2, 0, 1)[None].float()
    inputs = (inputs[:, [2, 1, 0]] - model.data_preprocessor.mean) / model.data_preprocessor.std
    with torch.no_grad():
        logits = (model.conv(inputs) + unflip_logits(model.conv(inputs.flip(-1)))) / 2
    probabilities = F.interpolate(logits.exp(), size=image.shape[:2], mode='bilinear', align_corners=False)
    return probabilities[0].argmax(0).numpy()


def test_predictor_labels_are_hrnet_segs_with_exp_resizing():
    model = AsymmetricSegmentor()
    predictor = ParsingLogitPredictor(model, input_size=(24, 24), keep_ratio=False, flip=True, resize_in='exp')
    plain = ParsingLogitPredictor(model, input_size=(24, 24), keep_ratio=False, flip=True)
    differs = 0
    for seed, shape in enumerate([(90, 50), (41, 77), (64, 64)]):
        image = random_image(*shape, seed)
        expected = _hrnet_seg_reference_labels(model, image, (24, 24))
        np.testing.assert_array_equal(predictor(image).argmax(0), expected)
        differs += int((plain(image).argmax(0) != expected).sum())
    assert differs > 0  # resizing logits instead really moves pixels: the option is not a no-op


def test_exp_resizing_does_not_overflow_on_large_logits():
    model = AsymmetricSegmentor()
    model.conv.bias.data += 500.0  # exp(500) is inf in float32 and float64
    logits = ParsingLogitPredictor(model, input_size=(24, 24), keep_ratio=False, resize_in='exp')(
        random_image(40, 30, 0))
    assert np.isfinite(logits).all()


def test_resize_in_must_be_known():
    with pytest.raises(LipToolkitError, match="resize_in must be 'logits' or 'exp'"):
        ParsingLogitPredictor(AsymmetricSegmentor(), resize_in='probabilities')
