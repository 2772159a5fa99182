"""Side-by-side panels: sizes, unscaled content, titles."""
import numpy as np
import pytest

from lip_toolkit.visualization.compose import GAP, TITLE_HEIGHT, side_by_side


def test_panels_keep_their_pixels_and_titles_are_drawn():
    left = np.full((50, 30, 3), (0, 0, 200), dtype=np.uint8)
    right = np.full((40, 70, 3), (0, 200, 0), dtype=np.uint8)
    picture = side_by_side([('ground truth', left), ('prediction', right)])
    assert picture.shape == (TITLE_HEIGHT + 50, 30 + GAP + 70, 3)
    assert np.array_equal(picture[TITLE_HEIGHT:, :30], left)
    assert np.array_equal(picture[TITLE_HEIGHT:TITLE_HEIGHT + 40, 30 + GAP:], right)
    assert (picture[TITLE_HEIGHT + 40:, 30 + GAP:] == 255).all()  # padding under the shorter panel
    assert (picture[:TITLE_HEIGHT, :30] < 100).any()             # title text
    assert (picture[:TITLE_HEIGHT, 30 + GAP:] < 100).any()


def test_long_titles_are_clipped_and_empty_input_refused():
    tiny = np.zeros((10, 20, 3), dtype=np.uint8)
    assert side_by_side([('a very long file name that cannot fit.png', tiny)]).shape == (TITLE_HEIGHT + 10, 20, 3)
    with pytest.raises(ValueError):
        side_by_side([])
