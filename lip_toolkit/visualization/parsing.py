"""Colour-code LIP label maps with the LIP palette, blend them over the image, and add a class legend.

Label maps hold class ids 0-19 (:data:`lip_toolkit.parsing.classes.LIP_CLASSES`) and 255 for ignored pixels.
Colours come from :data:`~lip_toolkit.parsing.classes.LIP_PALETTE` (LIP's official colours, also MMSeg's
``LIPDataset`` palette; RGB); pictures are BGR like everything cv2 and the toolkit's image reader produce.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..core.errors import LipToolkitError

IGNORE_INDEX = 255
#: BGR colour of ignored (255) pixels in colour-coded maps: white, so it never looks like a class.
IGNORE_COLOR = (255, 255, 255)

LEGEND_ROW_HEIGHT = 18
LEGEND_SWATCH = 12
LEGEND_MARGIN = 6
_FONT_SCALE = 0.42
LEGEND_REFERENCE_HEIGHT = 500


def lip_classes() -> Tuple[str, ...]:
    """LIP's 20 class names (index = class id)."""
    from ..parsing.classes import LIP_CLASSES
    return tuple(LIP_CLASSES)


def palette_bgr() -> np.ndarray:
    """The LIP palette as a ``(256, 3)`` uint8 BGR lookup table; id 255 is :data:`IGNORE_COLOR`, ids 20-254 black."""
    from ..parsing.classes import LIP_PALETTE
    table = np.zeros((256, 3), dtype=np.uint8)
    rgb = np.asarray(LIP_PALETTE, dtype=np.uint8).reshape(-1, 3)
    table[:len(rgb)] = rgb[:, ::-1]
    table[IGNORE_INDEX] = IGNORE_COLOR
    return table


def check_label_map(label: np.ndarray, path=None) -> np.ndarray:
    """Return ``label`` as a 2-D uint8 array, or raise naming the first pixel that is not a LIP id or 255."""
    label = np.asarray(label)
    if label.ndim != 2:
        raise LipToolkitError(f'a label map must be 2-D, got shape {label.shape}', path)
    num_classes = len(lip_classes())
    bad = (label >= num_classes) & (label != IGNORE_INDEX) | (label < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise LipToolkitError(f'label value {int(label[row, col])} at pixel ({col}, {row}) is not a LIP class id '
                              f'(0-{num_classes - 1}) or 255', path)
    return label.astype(np.uint8)


def colorize_label(label: np.ndarray) -> np.ndarray:
    """Map a label map to an ``H x W x 3`` uint8 BGR picture with the LIP palette."""
    return palette_bgr()[check_label_map(label)]


def present_classes(label: np.ndarray) -> List[int]:
    """Class ids that occur in ``label`` (ignored pixels excluded), ascending."""
    ids = np.unique(check_label_map(label))
    return [int(i) for i in ids if i != IGNORE_INDEX]


def painted_classes(label: np.ndarray, over_image: bool) -> List[int]:
    """The classes a picture of ``label`` shows in colour: over an image, background (0) is left as the image and
    is not one of them; on the bare colour map it is painted black and is."""
    return [i for i in present_classes(label) if i != 0 or not over_image]


def overlay_label(image: np.ndarray, label: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Blend the colour-coded ``label`` over ``image``; background (0) and ignored (255) pixels stay as they are.

    Args:
        image: ``H x W x 3`` uint8 BGR picture.
        label: ``H x W`` class ids, the same size as ``image``.
        alpha: weight of the class colours (0 = image only, 1 = colours only).
    """
    label = check_label_map(label)
    if label.shape != image.shape[:2]:
        raise LipToolkitError(f'label map size {label.shape[1]}x{label.shape[0]} differs from the image size '
                              f'{image.shape[1]}x{image.shape[0]}')
    if not 0.0 <= alpha <= 1.0:
        raise LipToolkitError(f'alpha must be in [0, 1], got {alpha}')
    colors = palette_bgr()[label].astype(np.float32)
    blended = image.astype(np.float32) * (1.0 - alpha) + colors * alpha
    person = (label != 0) & (label != IGNORE_INDEX)
    out = image.copy()
    out[person] = np.clip(np.rint(blended[person]), 0, 255).astype(np.uint8)
    return out


def legend_panel(class_ids: Sequence[int], height: Optional[int] = None, scale: float = 1.0) -> np.ndarray:
    """A white panel listing ``class_ids`` one per row: a colour swatch and the class name.

    Args:
        class_ids: the classes to list, in order.
        height: minimum panel height (rows that do not fit make it taller).
        scale: size factor for rows, swatches and text (large pictures get a larger legend).

    Returns:
        ``h x w x 3`` uint8 BGR panel; at ``scale`` 1, row ``i`` spans ``LEGEND_MARGIN + i * LEGEND_ROW_HEIGHT``
        onwards and its swatch starts at column ``LEGEND_MARGIN``.
    """
    import cv2
    names = lip_classes()
    table = palette_bgr()
    font = cv2.FONT_HERSHEY_SIMPLEX
    margin, row_height, swatch = (int(round(v * scale)) for v in (LEGEND_MARGIN, LEGEND_ROW_HEIGHT, LEGEND_SWATCH))
    font_scale, text_thickness = _FONT_SCALE * scale, max(1, int(round(scale)))
    text_width = max([cv2.getTextSize(names[i], font, font_scale, text_thickness)[0][0] for i in class_ids] or [0])
    width = margin * 3 + swatch + text_width
    needed = margin * 2 + row_height * len(class_ids)
    panel = np.full((max(needed, height or 0), width, 3), 255, dtype=np.uint8)
    for row, class_id in enumerate(class_ids):
        top = margin + row * row_height
        swatch_top = top + (row_height - swatch) // 2
        cv2.rectangle(panel, (margin, swatch_top), (margin + swatch - 1, swatch_top + swatch - 1),
                      tuple(int(c) for c in table[class_id]), -1)
        baseline = top + row_height // 2 + int(round(5 * scale))
        cv2.putText(panel, names[class_id], (margin * 2 + swatch, baseline), font, font_scale, (20, 20, 20),
                    text_thickness, cv2.LINE_AA)
    return panel


def attach_legend(picture: np.ndarray, class_ids: Sequence[int]) -> np.ndarray:
    """Place a legend of ``class_ids`` to the right of ``picture``; pads with white where heights differ."""
    # Rows of 18 px suit LIP-sized images; a legend beside a large photo grows with it.
    scale = max(1.0, picture.shape[0] / LEGEND_REFERENCE_HEIGHT)
    panel = legend_panel(class_ids, height=picture.shape[0], scale=scale)
    height = max(picture.shape[0], panel.shape[0])
    canvas = np.full((height, picture.shape[1] + panel.shape[1], 3), 255, dtype=np.uint8)
    canvas[:picture.shape[0], :picture.shape[1]] = picture
    canvas[:panel.shape[0], picture.shape[1]:] = panel
    return canvas


def render_parsing(image: Optional[np.ndarray], label: np.ndarray, alpha: float = 0.6,
                   legend: bool = True) -> np.ndarray:
    """The usual parsing picture: the label blended over ``image`` (or the bare colour map) plus a legend.

    Args:
        image: ``H x W x 3`` BGR picture, or ``None`` for the colour-coded map alone.
        label: ``H x W`` class ids.
        alpha: class colour weight of the blend.
        legend: append a legend listing exactly the classes painted (:func:`painted_classes`: over an image,
            Background is not listed).
    """
    picture = colorize_label(label) if image is None else overlay_label(image, label, alpha)
    if not legend:
        return picture
    return attach_legend(picture, painted_classes(label, over_image=image is not None))
