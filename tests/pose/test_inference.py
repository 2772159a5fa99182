"""Pose inference: flip test, heatmap -> original-pixel decoding, resampling, evaluate_checkpoint."""
import json

import numpy as np
import pytest
import torch

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.pose.inference import (PoseHeatmapPredictor, apply_affine, build_pose_model, decode_heatmaps,
                                        evaluate_checkpoint, heatmap_affine, warp_heatmaps, _as_config)

HRNET = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'
POSEFIX = 'configs/demo/pose_posefix-tiny_lip-128x96.py'
# lip-facts.md section 8: (0,5), (1,4), (2,3), (10,15), (11,14), (12,13); 6-9 map to themselves
LIP_FLIP = [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def _gaussian(width, height, x, y, sigma=1.5):
    xs, ys = np.meshgrid(np.arange(width), np.arange(height))
    return np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def test_decode_of_a_hand_made_heatmap_lands_on_original_pixels():
    heatmaps = np.zeros((1, 16, 32, 24), np.float32)
    heatmaps[0, 0] = _gaussian(24, 32, 10, 20)
    # joint 1: peak at (10, 20) with a higher right neighbour -> MSRA's quarter-pixel shift to x = 10.25
    heatmaps[0, 1, 20, 10], heatmaps[0, 1, 20, 11], heatmaps[0, 1, 20, 9] = 1.0, 0.8, 0.2
    # a 240x320 crop centred at (150, 200): heatmap pixel = 10 original pixels, origin at (30, 40)
    affine = heatmap_affine((150, 200), (240, 320), (24, 32))
    assert np.allclose(affine, [[10, 0, 30], [0, 10, 40]])
    keypoints, scores = decode_heatmaps(heatmaps, affine[None])
    assert keypoints[0, 0] == pytest.approx([130, 240])
    assert keypoints[0, 1] == pytest.approx([132.5, 240])
    assert scores[0, 0] == pytest.approx(1.0)


def test_warp_to_a_finer_grid_keeps_original_positions():
    heatmaps = np.zeros((1, 16, 32, 24), np.float32)
    for joint in range(16):
        heatmaps[0, joint] = _gaussian(24, 32, 3 + joint, 5 + joint)
    src = heatmap_affine((150, 200), (240, 320), (24, 32))[None]
    dst = heatmap_affine((150, 200), (240, 320), (48, 64))[None]
    warped = warp_heatmaps(heatmaps, src, dst, (48, 64))
    assert warped.shape == (1, 16, 64, 48)
    original, _ = decode_heatmaps(heatmaps, src)
    resampled, _ = decode_heatmaps(warped, dst)
    assert np.abs(original - resampled).max() <= 2.5  # a quarter of a destination pixel (5 original pixels)
    # the identity warp changes nothing
    assert np.allclose(warp_heatmaps(heatmaps, src, src, (24, 32)), heatmaps, atol=1e-6)
    assert np.allclose(apply_affine(np.array([[[10, 20]]]), src), [[[130, 240]]])


@pytest.fixture(scope='module')
def tiny_hrnet():
    torch.manual_seed(0)
    return build_pose_model(_as_config(HRNET), device='cpu')


def test_predictor_uses_lip_flip_pairs(tiny_hrnet):
    assert PoseHeatmapPredictor(tiny_hrnet).flip_indices == LIP_FLIP


def test_flip_test_is_mirror_symmetric(tiny_hrnet):
    """Predicting a mirrored image gives the mirrored, left/right-swapped heatmaps and joints.

    The person box is chosen so that the crop is the identity warp (96x128 image = input size), so the only
    asymmetry left would be a wrong flip-back or a wrong joint swap. MMPose's one-pixel heatmap shift is off here
    (it deliberately breaks the symmetry to correct the flipped input's half-pixel offset).
    """
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (128, 96, 3), dtype=np.uint8)
    bbox = np.array([48 - 38.4, 64 - 51.2, 48 + 38.4, 64 + 51.2])  # padded x1.25 -> exactly 96x128
    predictor = PoseHeatmapPredictor(tiny_hrnet, flip=True)
    predictor.test_cfg['shift_heatmap'] = False
    plain = predictor.predict([image], bboxes=[bbox])
    mirrored = predictor.predict([np.ascontiguousarray(image[:, ::-1])], bboxes=[bbox])
    assert np.allclose(mirrored.heatmaps[0], plain.heatmaps[0][LIP_FLIP, :, ::-1], atol=1e-5)
    assert np.allclose(plain.affines[0], [[4, 0, 0], [0, 4, 0]])
    # heatmap column k mirrors to 23 - k, i.e. original x to 4 * 23 - x (MMPose's pixel convention); joints
    # whose heatmap maximum is not positive are 'not found' (-1) by MMPose's decoder, in both images alike
    found = plain.scores[0, LIP_FLIP] > 0
    assert np.array_equal(mirrored.scores[0] > 0, found)
    # MMPose refines (quarter-pixel shift) only strictly inside the map (1 < k < w - 1), not symmetrically at
    # the border columns 1 and w - 2: compare the joints whose peak is away from them
    column = np.floor(plain.keypoints[0, LIP_FLIP, 0] / 4)
    found &= (column >= 2) & (column <= 21)
    assert found.sum() >= 4
    assert np.allclose(mirrored.keypoints[0, found, 0], 92 - plain.keypoints[0, LIP_FLIP, 0][found], atol=1e-4)
    assert np.allclose(mirrored.keypoints[0, :, 1], plain.keypoints[0, LIP_FLIP, 1], atol=1e-4)


def test_predictor_keypoints_are_its_heatmaps_decoded_through_its_affines(tiny_hrnet):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (300, 140, 3), dtype=np.uint8), rng.integers(0, 255, (90, 200, 3), np.uint8)]
    batch = PoseHeatmapPredictor(tiny_hrnet, flip=True).predict(images)
    assert batch.heatmaps.shape == (2, 16, 32, 24) and batch.keypoints.shape == (2, 16, 2)
    keypoints, scores = decode_heatmaps(batch.heatmaps, batch.affines)
    assert np.allclose(keypoints, batch.keypoints, atol=1e-3)
    assert np.allclose(scores, batch.scores, atol=1e-5)
    # the whole 140x300 image is the person box, padded by 1.25 (375 high) and widened to 3:4 (281.25 wide)
    assert np.allclose(batch.affines[0], [[281.25 / 24, 0, 70 - 140.625], [0, 375 / 32, 150 - 187.5]])


@pytest.fixture(scope='module')
def untrained_checkpoints(tiny_hrnet, tmp_path_factory):
    folder = tmp_path_factory.mktemp('pose_ckpt')
    torch.save({'state_dict': tiny_hrnet.state_dict()}, folder / 'hrnet.pth')
    torch.manual_seed(0)
    posefix = build_pose_model(_as_config(POSEFIX), device='cpu')
    torch.save({'state_dict': posefix.state_dict()}, folder / 'posefix.pth')
    return folder


def test_evaluate_checkpoint_writes_lip_csv_in_dataset_order_and_scores(synthetic_lip, untrained_checkpoints,
                                                                        tmp_path):
    from lip_toolkit.pose.lip_csv import read_lip_gt_csv, read_lip_pred_csv
    out = tmp_path / 'val_pred.csv'
    result = evaluate_checkpoint(HRNET, untrained_checkpoints / 'hrnet.pth', data_root=synthetic_lip, out=out)
    gt_names, _ = read_lip_gt_csv(synthetic_lip / 'TrainVal_pose_annotations' / 'lip_val_set.csv')
    names, coords = read_lip_pred_csv(out)
    assert names == gt_names and coords.shape == (24, 16, 2)
    assert result['num_images'] == 24 and 0 <= result['PCKh'] <= 100 and len(result['per_joint']) == 16
    assert 'PCKh@0.5' in result['table']
    json.dumps({k: v for k, v in result.items() if k != 'table'})  # what `evaluate --json` writes


def test_evaluate_checkpoint_on_test_split_only_predicts(synthetic_lip, untrained_checkpoints, tmp_path):
    result = evaluate_checkpoint(HRNET, untrained_checkpoints / 'hrnet.pth', data_root=synthetic_lip,
                                 split='test', out=tmp_path / 'test_pred.csv', flip=False)
    assert 'PCKh' not in result
    assert (tmp_path / 'test_pred.csv').read_text().count('\n') == 8


def test_posefix_refines_a_csv_and_reports_the_input_scores(synthetic_lip, untrained_checkpoints, tmp_path):
    gt_csv = synthetic_lip / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
    result = evaluate_checkpoint(POSEFIX, untrained_checkpoints / 'posefix.pth', data_root=synthetic_lip,
                                 input_csv=gt_csv, out=tmp_path / 'refined.csv')
    assert result['input_PCKh'] == pytest.approx(100.0)
    assert 0 <= result['PCKh'] <= 100 and 'input' in result['table']


def test_evaluate_checkpoint_errors_are_one_line_and_write_nothing(synthetic_lip, untrained_checkpoints, tmp_path):
    out = tmp_path / 'pred.csv'
    with pytest.raises(LipToolkitError, match='--input'):
        evaluate_checkpoint(POSEFIX, untrained_checkpoints / 'posefix.pth', data_root=synthetic_lip, out=out)
    gt_csv = synthetic_lip / 'TrainVal_pose_annotations' / 'lip_val_set.csv'
    with pytest.raises(LipToolkitError, match='PoseFix'):
        evaluate_checkpoint(HRNET, untrained_checkpoints / 'hrnet.pth', data_root=synthetic_lip, input_csv=gt_csv,
                            out=out)
    partial = tmp_path / 'partial.csv'
    partial.write_text(''.join(gt_csv.read_text().splitlines(keepends=True)[:5]))
    with pytest.raises(LipToolkitError, match='have no row') as error:
        evaluate_checkpoint(POSEFIX, untrained_checkpoints / 'posefix.pth', data_root=synthetic_lip,
                            input_csv=partial, out=out)
    assert str(partial) in str(error.value)
    with pytest.raises(LipToolkitError, match='checkpoint not found'):
        evaluate_checkpoint(HRNET, tmp_path / 'missing.pth', data_root=synthetic_lip, out=out)
    # a checkpoint of another model is refused before anything is written
    with pytest.raises(LipToolkitError):
        evaluate_checkpoint(HRNET, untrained_checkpoints / 'posefix.pth', data_root=synthetic_lip, out=out)
    assert not out.exists()


def test_posefix_sees_the_coarse_pose_rendered_where_the_crop_puts_it():
    """What the refiner's first convolution receives, worked by hand for a 60x100 image.

    The person box is the whole image, padded by 1.25 to 75x125 around (30, 50) and widened to 3:4: 93.75x125,
    so an original pixel (x, y) lands at input ((x - 30) * 96 / 93.75 + 48, (y - 50) * 128 / 125 + 64). The right
    ankle at original (39.765625, 69.53125) is input (58, 84); the head top at (30, 7.03125) is input (48, 20).
    Each given joint is a Gaussian of sigma 3 (the config's) peaking at 255 / mean(std) = 255 / 57.63; the other
    joints (nan) are empty. The flipped pass sees the mirror image: the right ankle becomes the left ankle (joint 5)
    at x = 95 - 58 = 37.
    """
    model = build_pose_model(_as_config(POSEFIX), device='cpu')
    seen = []
    extract = model.extract_feat
    model.extract_feat = lambda inputs: seen.append(inputs.clone()) or extract(inputs)
    predictor = PoseHeatmapPredictor(model, flip=True)
    coarse = np.full((1, 16, 2), np.nan)
    coarse[0, 0] = (39.765625, 69.53125)
    coarse[0, 9] = (30.0, 7.03125)
    image = np.random.default_rng(0).integers(0, 255, (100, 60, 3), dtype=np.uint8)
    predictor.predict([image], coarse_keypoints=coarse)
    plain, flipped = (inputs[0, 3:].numpy() for inputs in seen)
    assert plain.shape == flipped.shape == (16, 128, 96)
    peak = 255 / np.mean([58.395, 57.12, 57.375])
    expected = np.zeros((16, 128, 96), np.float32)
    expected[0] = peak * _gaussian(96, 128, 58, 84, sigma=3)
    expected[9] = peak * _gaussian(96, 128, 48, 20, sigma=3)
    np.testing.assert_allclose(plain, expected, atol=1e-3)
    expected_flipped = np.zeros_like(expected)
    expected_flipped[5] = peak * _gaussian(96, 128, 37, 84, sigma=3)
    expected_flipped[9] = peak * _gaussian(96, 128, 95 - 48, 20, sigma=3)
    np.testing.assert_allclose(flipped, expected_flipped, atol=1e-3)
