"""Training transforms on hand-made maps: flip with left/right swap, CE2P edges (255-aware), random affine."""
import numpy as np
import pytest
from mmseg.datasets.transforms import GenerateEdge

from lip_toolkit.parsing.datasets import LIPRandomAffine, LIPRandomFlip


def reference_edges(label, width=3):
    """CE2P's edge rule written out pixel by pixel: for each neighbouring pair with different labels, neither
    255, mark the lower pixel (vertical pair), the left pixel (horizontal), the upper-left pixel (diagonal) or the
    upper-right pixel (anti-diagonal); then every pixel within width//2 (chessboard) of a mark is an edge."""
    h, w = label.shape
    marked = np.zeros((h, w), bool)

    def differ(a, b):
        return label[a] != label[b] and label[a] != 255 and label[b] != 255

    for y in range(h):
        for x in range(w):
            if y > 0 and differ((y, x), (y - 1, x)):
                marked[y, x] = True
            if x + 1 < w and differ((y, x), (y, x + 1)):
                marked[y, x] = True
            if y + 1 < h and x + 1 < w and differ((y, x), (y + 1, x + 1)):
                marked[y, x] = True
            if y + 1 < h and x > 0 and differ((y, x), (y + 1, x - 1)):
                marked[y, x] = True
    r = width // 2
    edge = np.zeros((h, w), np.uint8)
    for y in range(h):
        for x in range(w):
            edge[y, x] = marked[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].any()
    return edge


def _hand_map():
    # a person seen from the front: left arm (14) on the image right, right arm (15) on the image left ...
    label = np.zeros((12, 10), np.uint8)
    label[1:3, 3:7] = 2        # hair
    label[3:7, 3:7] = 5        # upper clothes
    label[3:7, 1:3] = 15       # right arm
    label[3:7, 7:9] = 14       # left arm
    label[7:10, 3:5] = 17      # right leg
    label[7:10, 5:7] = 16      # left leg
    label[10, 3:5] = 19        # right shoe
    label[10, 5:7] = 18        # left shoe
    label[:, 9] = 255          # a padded column
    return label


def _results(label, image=None):
    image = np.dstack([label, label, label]).astype(np.uint8) if image is None else image
    return dict(img=image, gt_seg_map=label.copy(), seg_fields=['gt_seg_map'], img_shape=label.shape)


def test_mmseg_generate_edge_is_ce2p_rule_and_255_aware():
    rng = np.random.default_rng(0)
    for _ in range(5):
        label = np.kron(rng.integers(0, 4, (6, 7)), np.ones((3, 3), np.int64)).astype(np.uint8)
        label[rng.random(label.shape) < 0.1] = 255
        edge = GenerateEdge(edge_width=3)(_results(label))['gt_edge_map']
        assert (edge == reference_edges(label)).all()
    # a class meeting only the ignore label makes no edge
    only_ignore = np.zeros((8, 8), np.uint8)
    only_ignore[:, 4:] = 255
    assert GenerateEdge(edge_width=3)(_results(only_ignore))['gt_edge_map'].sum() == 0


def test_flip_mirrors_and_swaps_left_right_labels():
    label = _hand_map()
    image = np.random.default_rng(1).integers(0, 255, (12, 10, 3)).astype(np.uint8)
    out = LIPRandomFlip(prob=1.0)(_results(label, image.copy()))
    expected = label[:, ::-1].copy()
    for a, b in ((14, 15), (16, 17), (18, 19)):
        expected[label[:, ::-1] == a] = b
        expected[label[:, ::-1] == b] = a
    assert (out['gt_seg_map'] == expected).all()
    assert (out['img'] == image[:, ::-1]).all()
    assert out['flip'] and out['flip_direction'] == 'horizontal'
    # by hand: the left arm (14) was on the image right (cols 7-8); mirrored it is on cols 1-2 and now a right arm
    assert (out['gt_seg_map'][3:7, 1:3] == 15).all() and (out['gt_seg_map'][3:7, 7:9] == 14).all()
    assert (out['gt_seg_map'][10, 3:5] == 19).all() and (out['gt_seg_map'][:, 0] == 255).all()


def test_edges_of_flipped_sample_follow_flipped_labels():
    label = _hand_map()
    flip = LIPRandomFlip(prob=1.0)
    out = GenerateEdge(edge_width=3)(flip(_results(label)))
    assert (out['gt_edge_map'] == reference_edges(out['gt_seg_map'])).all()
    # an edge map made before the flip is mirrored with the sample, never left behind
    early = GenerateEdge(edge_width=3)(_results(label))
    before = early['gt_edge_map'].copy()
    assert (flip(early)['gt_edge_map'] == before[:, ::-1]).all()


def test_flip_never_happens_with_probability_zero():
    label = _hand_map()
    out = LIPRandomFlip(prob=0.0)(_results(label))
    assert (out['gt_seg_map'] == label).all() and not out['flip']


def _fixed(transform, scale, rotation):
    transform._random_scale_and_rotation = lambda: (scale, rotation)
    return transform


def test_affine_keeps_aspect_and_pads_labels_with_255():
    label = np.zeros((10, 20), np.uint8)
    label[:, :10] = 1
    label[:, 10:] = 2
    image = np.full((10, 20, 3), 200, np.uint8)
    out = _fixed(LIPRandomAffine(crop_size=(40, 40)), 1.0, 0.0)(_results(label, image))
    seg = out['gt_seg_map']
    assert seg.shape == (40, 40) and out['img'].shape == (40, 40, 3) and out['img_shape'] == (40, 40)
    assert (seg[:9] == 255).all() and (seg[31:] == 255).all()      # 10 rows zoomed x2 = 20 rows, centred
    assert (seg[11:29, :19] == 1).all() and (seg[11:29, 21:] == 2).all()
    assert (out['img'][:9] == 0).all() and (out['img'][15, 5] == 200).all()


def test_affine_rotation_and_scale():
    label = np.zeros((20, 20), np.uint8)
    label[:10] = 3   # top half
    label[10:] = 4   # bottom half
    out = _fixed(LIPRandomAffine(crop_size=(20, 20)), 1.0, 90.0)(_results(label))
    seg = out['gt_seg_map']
    # OpenCV's positive angle turns the picture counter-clockwise: the top half ends up on the left
    assert (seg[2:18, 1:9] == 3).all() and (seg[2:18, 11:19] == 4).all()
    zoomed_out = _fixed(LIPRandomAffine(crop_size=(20, 20)), 1.25, 0.0)(_results(label))['gt_seg_map']
    assert (zoomed_out[:, 0] == 255).all() and (zoomed_out[0] == 255).all() and (zoomed_out[10, 10] == 4)
    assert set(np.unique(zoomed_out)) <= {3, 4, 255}


def test_affine_random_parameters_follow_ce2p_ranges():
    np.random.seed(0)
    transform = LIPRandomAffine()
    draws = np.array([transform._random_scale_and_rotation() for _ in range(3000)])
    assert draws[:, 0].min() >= 0.75 and draws[:, 0].max() <= 1.25
    assert np.abs(draws[:, 1]).max() <= 60
    assert 0.35 < np.mean(draws[:, 1] == 0) < 0.45   # rotation with probability 0.6


def test_affine_labels_keep_their_ids():
    rng = np.random.default_rng(3)
    label = rng.integers(0, 20, (37, 23)).astype(np.uint8)
    np.random.seed(1)
    for _ in range(5):
        out = LIPRandomAffine(crop_size=(31, 29))(_results(label))
        assert set(np.unique(out['gt_seg_map'])) <= set(np.unique(label)) | {255}


def test_affine_rejects_bad_arguments():
    with pytest.raises(ValueError):
        LIPRandomAffine(crop_size=(0, 10))
    with pytest.raises(ValueError):
        LIPRandomAffine(scale_factor=1.5)
