"""Colour-coded parsing: LIP palette, blending that keeps the background, a legend of exactly the present classes."""
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.classes import LIP_PALETTE
from lip_toolkit.visualization.parsing import (LEGEND_MARGIN, LEGEND_ROW_HEIGHT, LEGEND_SWATCH, colorize_label,
                                               legend_panel, overlay_label, present_classes, render_parsing)


def bgr(class_id):
    return tuple(int(c) for c in LIP_PALETTE[class_id][::-1])


def swatch_colours(panel):
    """Read the legend back from its pixels: the colour at the centre of each row's swatch, top to bottom."""
    colours = []
    column = LEGEND_MARGIN + LEGEND_SWATCH // 2
    for row in range(0, 20):
        centre = LEGEND_MARGIN + row * LEGEND_ROW_HEIGHT + LEGEND_ROW_HEIGHT // 2
        if centre >= panel.shape[0] or tuple(panel[centre, column]) == (255, 255, 255):
            break
        colours.append(tuple(int(c) for c in panel[centre, column]))
    return colours


def label_with(classes, shape=(60, 40)):
    label = np.zeros(shape, dtype=np.uint8)
    for i, class_id in enumerate(classes):
        label[i * 5:(i + 1) * 5, :] = class_id
    return label


def test_colorize_uses_the_lip_palette():
    label = label_with([0, 5, 14, 255])
    colours = colorize_label(label)
    assert colours.shape == (60, 40, 3)
    assert tuple(colours[0, 0]) == bgr(0)
    assert tuple(colours[6, 3]) == bgr(5)
    assert tuple(colours[11, 3]) == bgr(14)
    assert tuple(colours[16, 3]) == (255, 255, 255)  # ignore


def test_overlay_blends_person_pixels_only():
    image = np.full((60, 40, 3), 100, dtype=np.uint8)
    label = label_with([0, 5, 255, 15])
    out = overlay_label(image, label, alpha=0.5)
    assert (out[label == 0] == 100).all() and (out[label == 255] == 100).all()
    expected = np.rint(np.array(bgr(5)) * 0.5 + 50).astype(int)
    assert tuple(out[6, 0]) == tuple(expected)
    with pytest.raises(LipToolkitError, match='differs from the image size'):
        overlay_label(image, label[:50], alpha=0.5)


def test_legend_lists_exactly_the_painted_classes():
    image = np.full((60, 40, 3), 100, dtype=np.uint8)
    label = label_with([0, 2, 13, 255, 5, 19])
    assert present_classes(label) == [0, 2, 5, 13, 19]
    picture = render_parsing(image, label)
    legend = picture[:, 40:]
    # Over the image, background pixels keep the image's colour: Background is not in the legend.
    assert swatch_colours(legend) == [bgr(c) for c in (2, 5, 13, 19)]
    # The blended image is kept unscaled at the left; the canvas grows to fit the legend rows.
    assert np.array_equal(picture[:60, :40], overlay_label(image, label))
    assert picture.shape[0] == max(60, 2 * LEGEND_MARGIN + 4 * LEGEND_ROW_HEIGHT)
    # Another set of classes gives another legend.
    assert swatch_colours(render_parsing(None, label_with([0, 18]))[:, 40:]) == [bgr(0), bgr(18)]


def test_legend_has_names_drawn_beside_swatches():
    panel = legend_panel([7])
    text = panel[LEGEND_MARGIN:LEGEND_MARGIN + LEGEND_ROW_HEIGHT, 2 * LEGEND_MARGIN + LEGEND_SWATCH:]
    assert (text < 100).any()  # dark text pixels
    assert panel.shape[1] > LEGEND_SWATCH + 3 * LEGEND_MARGIN + 20


def test_values_outside_lip_are_refused_with_the_pixel():
    label = label_with([0, 5])
    label[7, 3] = 42
    with pytest.raises(LipToolkitError, match=r'42 at pixel \(3, 7\) is not a LIP class'):
        colorize_label(label)


def test_legend_grows_with_large_pictures():
    small = render_parsing(None, label_with([0, 5], shape=(100, 50)))
    large = render_parsing(None, label_with([0, 5], shape=(2000, 50)))
    assert large.shape[1] - 50 >= 3 * (small.shape[1] - 50)  # legend width scales with the height (x4)


def test_palette_is_lips_official_one_and_every_two_classes_look_different():
    """Face and Upper-clothes (and every other pair) must be told apart at a glance. The colours are LIP's own,
    the ones MMSeg's LIPDataset carries; distance is CIELAB Delta E (CIE76) computed by OpenCV."""
    import itertools

    import cv2
    from mmseg.datasets import LIPDataset
    assert [list(c) for c in LIP_PALETTE] == [list(c) for c in LIPDataset.METAINFO['palette']]
    lab = cv2.cvtColor(np.array(LIP_PALETTE, np.float32)[None] / 255.0, cv2.COLOR_RGB2Lab)[0]
    distance = {(a, b): float(np.linalg.norm(lab[a] - lab[b])) for a, b in itertools.combinations(range(20), 2)}
    closest = min(distance, key=distance.get)
    assert distance[closest] >= 15, f'classes {closest} are only {distance[closest]:.1f} apart'
    assert distance[(5, 13)] >= 100  # Upper-clothes vs Face: orange vs blue
