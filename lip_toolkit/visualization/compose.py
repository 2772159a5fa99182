"""Put pictures side by side with a title above each: ground truth beside prediction, image beside overlay."""
from typing import Sequence, Tuple

import numpy as np

TITLE_HEIGHT = 24
GAP = 6
BACKGROUND = (255, 255, 255)
TITLE_COLOR = (20, 20, 20)
_FONT_SCALE = 0.5


def titled(picture: np.ndarray, title: str) -> np.ndarray:
    """``picture`` with a white bar of height :data:`TITLE_HEIGHT` above it holding ``title`` (clipped to fit)."""
    import cv2
    font = cv2.FONT_HERSHEY_SIMPLEX
    width = picture.shape[1]
    text = title
    # Shorten long titles (file names) from the left, keeping the informative end.
    while text and cv2.getTextSize(text, font, _FONT_SCALE, 1)[0][0] > width - 4:
        text = text[1:]
    if text != title and len(text) > 3:
        text = '...' + text[3:]
    bar = np.full((TITLE_HEIGHT, width, 3), BACKGROUND, dtype=np.uint8)
    cv2.putText(bar, text, (2, TITLE_HEIGHT - 7), font, _FONT_SCALE, TITLE_COLOR, 1, cv2.LINE_AA)
    return np.concatenate([bar, picture], axis=0)


def side_by_side(panels: Sequence[Tuple[str, np.ndarray]], gap: int = GAP) -> np.ndarray:
    """Titled panels in one row, top-aligned, separated by ``gap`` white columns.

    Panels keep their own sizes (a legend makes one wider than another); shorter ones are padded with white
    below, so every pixel of every panel appears unscaled.

    Args:
        panels: ``(title, H x W x 3 uint8 BGR picture)`` pairs, left to right.
        gap: white columns between panels.

    Returns:
        ``(TITLE_HEIGHT + max H) x (sum W + gap * (n - 1)) x 3`` uint8 picture.
    """
    if not panels:
        raise ValueError('side_by_side needs at least one panel')
    pictures = [titled(np.asarray(picture, dtype=np.uint8), title) for title, picture in panels]
    height = max(p.shape[0] for p in pictures)
    width = sum(p.shape[1] for p in pictures) + gap * (len(pictures) - 1)
    canvas = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    left = 0
    for picture in pictures:
        canvas[:picture.shape[0], left:left + picture.shape[1]] = picture
        left += picture.shape[1] + gap
    return canvas
