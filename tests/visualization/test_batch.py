"""Folders of pictures: a split's ground truth, prediction files beside their images."""
import shutil

import cv2
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.classes import LIP_PALETTE
from lip_toolkit.parsing.label_io import write_label_png
from lip_toolkit.pose.lip_csv import read_lip_gt_csv, write_lip_pred_csv
from lip_toolkit.visualization.batch import (visualize_parsing_predictions, visualize_pose_predictions,
                                             visualize_split)
from lip_toolkit.visualization.compose import GAP, TITLE_HEIGHT
from lip_toolkit.visualization.parsing import legend_panel
from lip_toolkit.visualization.pose import LEFT_COLOR, RIGHT_COLOR


def near(picture, x, y, colour, reach=2):
    x, y = int(round(x)), int(round(y))
    patch = picture[max(0, y - reach):y + reach + 1, max(0, x - reach):x + reach + 1].reshape(-1, 3)
    return any(tuple(p) == tuple(colour) for p in patch)


def test_split_pose_draws_the_csv_on_each_image(synthetic_lip, tmp_path):
    written = visualize_split(synthetic_lip, 'val', 'pose', tmp_path / 'out', limit=3)
    names, keypoints = read_lip_gt_csv(synthetic_lip / 'TrainVal_pose_annotations' / 'lip_val_set.csv')
    assert [p.stem for p in written] == [n[:-4] for n in names[:3]]
    for path, points in zip(written, keypoints[:3]):
        picture = cv2.imread(str(path))
        image = cv2.imread(str(synthetic_lip / 'TrainVal_images' / 'val_images' / f'{path.stem}.jpg'))
        assert picture.shape == image.shape
        for joint, colour in ((15, LEFT_COLOR), (0, RIGHT_COLOR)):
            x, y, v = points[joint]
            if np.isfinite(x) and v == 0:
                assert near(picture, x, y, colour), (path.name, joint)


def test_split_parsing_adds_a_legend(synthetic_lip, tmp_path):
    written = visualize_split(synthetic_lip, 'val', 'parsing', tmp_path / 'out', limit=2)
    assert len(written) == 2
    image = cv2.imread(str(synthetic_lip / 'TrainVal_images' / 'val_images' / f'{written[0].stem}.jpg'))
    picture = cv2.imread(str(written[0]))
    assert picture.shape[0] >= image.shape[0] and picture.shape[1] > image.shape[1] + 40


def test_split_errors(synthetic_lip, tmp_path):
    with pytest.raises(LipToolkitError, match='test split has no ground truth'):
        visualize_split(synthetic_lip, 'test', 'pose', tmp_path)
    with pytest.raises(LipToolkitError, match='data root not found'):
        visualize_split(tmp_path / 'nowhere', 'val', 'pose', tmp_path)
    (tmp_path / 'TrainVal_images' / 'val_images').mkdir(parents=True)
    with pytest.raises(LipToolkitError, match='val_segmentations not found'):
        visualize_split(tmp_path, 'val', 'parsing', tmp_path / 'out')


@pytest.fixture(scope='module')
def real_rows(real_lip_dir):
    """Names and ground truth of the six shared real images (their rows of the real val CSV)."""
    names, keypoints = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    wanted = {p.name for p in (real_lip_dir / 'images').glob('*.jpg')}
    rows = [i for i, n in enumerate(names) if n in wanted]
    return [names[i] for i in rows], keypoints[rows]


def test_pose_predictions_beside_ground_truth(real_lip_dir, real_rows, tmp_path):
    names, keypoints = real_rows
    predicted = keypoints[:, :, :2] + 3.0
    write_lip_pred_csv(tmp_path / 'pred.csv', names, predicted)
    written = visualize_pose_predictions(tmp_path / 'pred.csv', real_lip_dir / 'images', tmp_path / 'out',
                                         gt_csv=real_lip_dir / 'lip_val_set.csv')
    assert len(written) == len(names) == 6
    for path, points, guess in zip(written, keypoints, predicted):
        image = cv2.imread(str(real_lip_dir / 'images' / f'{path.stem}.jpg'))
        height, width = image.shape[:2]
        picture = cv2.imread(str(path))
        assert picture.shape == (TITLE_HEIGHT + height, 2 * width + GAP, 3)
        x, y, v = points[13]  # left shoulder: GT panel at the left, prediction panel at the right
        if np.isfinite(x) and v == 0:
            assert near(picture, x, y + TITLE_HEIGHT, LEFT_COLOR)
            assert near(picture, guess[13, 0] + width + GAP, guess[13, 1] + TITLE_HEIGHT, LEFT_COLOR)
    alone = visualize_pose_predictions(tmp_path / 'pred.csv', real_lip_dir / 'images', tmp_path / 'alone', limit=1)
    assert cv2.imread(str(alone[0])).shape == cv2.imread(str(real_lip_dir / 'images' / names[0])).shape


def test_pose_predictions_errors(real_lip_dir, real_rows, tmp_path):
    names, keypoints = real_rows
    write_lip_pred_csv(tmp_path / 'pred.csv', names + ['nothere_1.jpg'],
                       np.concatenate([keypoints[:, :, :2], keypoints[:1, :, :2]]))
    with pytest.raises(LipToolkitError, match="1 predicted image.*'nothere_1.jpg'"):
        visualize_pose_predictions(tmp_path / 'pred.csv', real_lip_dir / 'images', tmp_path / 'o',
                                   gt_csv=real_lip_dir / 'lip_val_set.csv')
    with pytest.raises(LipToolkitError, match="no image named 'nothere_1.jpg'"):
        visualize_pose_predictions(tmp_path / 'pred.csv', real_lip_dir / 'images', tmp_path / 'o')


def test_parsing_predictions_with_ground_truth(real_lip_dir, tmp_path):
    images = sorted((real_lip_dir / 'images').glob('*.jpg'))[:2]
    for path in images:
        height, width = cv2.imread(str(path)).shape[:2]
        truth = np.zeros((height, width), dtype=np.uint8)
        truth[height // 4:height // 2, :] = 5
        guess = truth.copy()
        guess[height // 2:, :width // 2] = 9
        write_label_png(tmp_path / 'gt' / f'{path.stem}.png', truth, paletted=False)
        write_label_png(tmp_path / 'pred' / f'{path.stem}.png', guess)
    written = visualize_parsing_predictions(tmp_path / 'pred', real_lip_dir / 'images', tmp_path / 'out',
                                            gt_dir=tmp_path / 'gt')
    assert [p.stem for p in written] == [p.stem for p in images]
    picture = cv2.imread(str(written[0]))
    width = cv2.imread(str(images[0])).shape[1]
    assert picture.shape[1] > 3 * width + 2 * GAP   # image, ground truth + legend, prediction + legend
    # Pants (9) occur only in the prediction: its pure palette colour is in the prediction's legend, and in
    # neither the image nor the ground-truth panel.
    pants = np.array(LIP_PALETTE[9][::-1])
    truth_end = width + GAP + width + legend_panel([0, 5]).shape[1]
    is_pants = (picture == pants).all(axis=2)
    assert not is_pants[:, :truth_end].any()
    assert is_pants[:, truth_end + GAP:].any()
    with pytest.raises(LipToolkitError, match='no ground truth for prediction'):
        shutil.rmtree(tmp_path / 'gt')
        (tmp_path / 'gt').mkdir()
        visualize_parsing_predictions(tmp_path / 'pred', real_lip_dir / 'images', tmp_path / 'out',
                                      gt_dir=tmp_path / 'gt')


def test_parsing_prediction_of_the_wrong_size_is_refused(real_lip_dir, tmp_path):
    path = sorted((real_lip_dir / 'images').glob('*.jpg'))[0]
    write_label_png(tmp_path / 'pred' / f'{path.stem}.png', np.zeros((5, 5), dtype=np.uint8))
    with pytest.raises(LipToolkitError, match='label map is 5x5'):
        visualize_parsing_predictions(tmp_path / 'pred', real_lip_dir / 'images', tmp_path / 'out')
