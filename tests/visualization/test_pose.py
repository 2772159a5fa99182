"""LIP skeleton drawing: side colours, occluded joints hollow, unlabelled joints and their limbs left out."""
import numpy as np
import pytest

from lip_toolkit.core.image_io import read_image_bgr
from lip_toolkit.pose.lip_csv import read_lip_gt_csv
from lip_toolkit.visualization.pose import (CENTER_COLOR, DEFAULT_KPT_THR, LEFT_COLOR, LIP_SKELETON, RIGHT_COLOR,
                                            draw_pose, limb_color)

GREY = (128, 128, 128)


def standing_person():
    """A plausible upright pose on a 200 x 200 canvas, all joints visible."""
    points = np.array([
        [80, 190], [80, 150], [85, 110], [115, 110], [120, 150], [120, 190],   # legs
        [100, 110], [100, 80], [100, 50], [100, 20],                           # axis
        [50, 110], [60, 80], [75, 55], [125, 55], [140, 80], [150, 110],       # arms
    ], dtype=float)
    return np.concatenate([points, np.zeros((16, 1))], axis=1)


def canvas():
    return np.full((200, 200, 3), GREY, dtype=np.uint8)


def test_left_right_and_axis_colours_at_the_joints():
    drawn = draw_pose(canvas(), standing_person(), radius=5, thickness=2)
    assert tuple(drawn[110, 150]) == LEFT_COLOR     # left wrist (15)
    assert tuple(drawn[190, 80]) == RIGHT_COLOR     # right ankle (0)
    assert tuple(drawn[50, 100]) == CENTER_COLOR    # neck (8)
    # Limbs in between: middle of the left forearm and of the right shin.
    assert tuple(drawn[95, 145]) == LEFT_COLOR
    assert tuple(drawn[170, 80]) == RIGHT_COLOR


def test_occluded_joint_is_a_hollow_ring():
    points = standing_person()
    points[15, 2] = 1  # left wrist occluded
    drawn = draw_pose(canvas(), points, radius=6, thickness=1, joints=[15])
    assert tuple(drawn[110, 150]) == GREY           # centre left empty ...
    assert tuple(drawn[110, 156]) == LEFT_COLOR     # ... the ring drawn at the radius
    visible = draw_pose(canvas(), standing_person(), radius=6, thickness=1, joints=[15])
    assert tuple(visible[110, 150]) == LEFT_COLOR   # a visible joint is a filled disc


def test_unlabelled_joint_and_its_limbs_are_skipped():
    points = standing_person()
    points[14] = np.nan  # left elbow unlabelled: upper arm and forearm vanish
    drawn = draw_pose(canvas(), points, radius=5, thickness=2)
    assert tuple(drawn[80, 140]) == GREY
    assert tuple(drawn[95, 145]) == GREY
    assert tuple(drawn[110, 150]) == LEFT_COLOR     # the wrist itself is still drawn
    untouched = np.full((200, 200, 3), GREY, dtype=np.uint8)
    draw_pose(untouched, points)
    assert (untouched == GREY).all()                # the input is never modified


def test_predictions_without_flags_and_bad_shapes():
    drawn = draw_pose(canvas(), standing_person()[:, :2], radius=5)
    assert tuple(drawn[110, 150]) == LEFT_COLOR
    with pytest.raises(ValueError, match='16, 2'):
        draw_pose(canvas(), np.zeros((17, 2)))


def test_limb_colours_follow_the_side():
    sides = {limb: limb_color(limb) for limb in LIP_SKELETON}
    assert sides[(12, 8)] == RIGHT_COLOR and sides[(13, 8)] == LEFT_COLOR and sides[(7, 8)] == CENTER_COLOR


def test_real_images_with_their_ground_truth(real_lip_dir):
    names, keypoints = read_lip_gt_csv(real_lip_dir / 'lip_val_set.csv')
    row_of = {n: i for i, n in enumerate(names)}
    checked = 0
    for path in sorted((real_lip_dir / 'images').glob('*.jpg')):
        image = read_image_bgr(path)
        points = keypoints[row_of[path.name]]
        drawn = draw_pose(image, points)
        assert drawn.shape == image.shape
        for joint, colour in ((13, LEFT_COLOR), (12, RIGHT_COLOR)):
            x, y, v = points[joint]
            if not np.isfinite(x) or v != 0:
                continue
            x, y = int(round(x)), int(round(y))
            patch = drawn[max(0, y - 2):y + 3, max(0, x - 2):x + 3].reshape(-1, 3)
            assert any(tuple(p) == colour for p in patch), (path.name, joint)
            checked += 1
    assert checked >= 6


def test_joints_below_the_score_threshold_are_not_drawn():
    scores = np.full(16, 0.9)
    scores[15] = 0.1   # left wrist: hidden, and the forearm with it
    scores[14] = np.nan
    drawn = draw_pose(canvas(), standing_person()[:, :2], radius=5, thickness=2, scores=scores, kpt_thr=0.3)
    assert tuple(drawn[110, 150]) == GREY and tuple(drawn[95, 145]) == GREY and tuple(drawn[80, 140]) == GREY
    assert tuple(drawn[190, 80]) == RIGHT_COLOR     # confident joints stay
    at_threshold = draw_pose(canvas(), standing_person()[:, :2], radius=5, scores=np.full(16, 0.3), kpt_thr=0.3)
    assert tuple(at_threshold[110, 150]) == LEFT_COLOR   # a score equal to the threshold is drawn (as MMPose)
    assert DEFAULT_KPT_THR == 0.3
    with pytest.raises(ValueError, match='needs the joint scores'):
        draw_pose(canvas(), standing_person(), kpt_thr=0.3)


def test_the_skeleton_covers_the_same_share_of_small_and_large_pictures():
    """The same pose drawn on 120 x 200 (the smallest real LIP photos are about that) up to 1920 x 3200: the share
    of the picture the skeleton covers stays within 30% (joint discs and limb widths grow with the image).
    Pixels count as drawn when a channel moved more than 64 from the background, so anti-aliased fringes, which
    are about a pixel whatever the size, do not weigh on small pictures."""
    shares = []
    for scale in (1, 2, 4, 8, 16):
        height, width = 200 * scale, 120 * scale
        points = standing_person()[:, :2] * [0.6 * scale, 1.0 * scale]
        drawn = draw_pose(np.full((height, width, 3), GREY, dtype=np.uint8), points)
        shares.append((np.abs(drawn.astype(int) - np.array(GREY)).max(axis=2) > 64).mean())
    assert max(shares) / min(shares) < 1.3, shares
