"""LIP's 20 parsing classes, the colours used to draw them, and the label pairs a horizontal flip swaps.

Class names and order are those of the LIP release as CE2P's and SCHP's evaluators list them (id = index).
The palette is LIP's own (see :data:`LIP_PALETTE`); a paletted PNG written with it shows those colours, and
reading it with PIL gives back the class ids (the index, never the colour, carries the class).
"""
from typing import List, Tuple

LIP_CLASSES: Tuple[str, ...] = (
    'Background', 'Hat', 'Hair', 'Glove', 'Sunglasses', 'Upper-clothes', 'Dress', 'Coat', 'Socks', 'Pants',
    'Jumpsuits', 'Scarf', 'Skirt', 'Face', 'Left-arm', 'Right-arm', 'Left-leg', 'Right-leg', 'Left-shoe',
    'Right-shoe')

NUM_CLASSES = len(LIP_CLASSES)

# Ground-truth value that marks pixels left out of training and scoring (crop padding, other persons).
IGNORE_INDEX = 255

# Left/right label pairs: a horizontally mirrored person has them exchanged.
LIP_FLIP_PAIRS: Tuple[Tuple[int, int], ...] = ((14, 15), (16, 17), (18, 19))


#: RGB colour of each class (index = class id): LIP's official colour map, ``label_colours`` in the LIP authors'
#: code (Engineering-Course/LIP_JPPNet, ``utils/utils.py``), which MMSeg's ``LIPDataset`` also uses. The PASCAL VOC
#: map that CE2P and SCHP save PNGs with gives Face and Upper-clothes two close purples and Dress and Left-arm
#: colours 8.7 CIELAB units apart; in this one every two classes are at least 19 apart (tested).
LIP_PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (0, 0, 0), (128, 0, 0), (255, 0, 0), (0, 85, 0), (170, 0, 51), (255, 85, 0), (0, 0, 85), (0, 119, 221),
    (85, 85, 0), (0, 85, 85), (85, 51, 0), (52, 86, 128), (0, 128, 0), (0, 0, 255), (51, 170, 221), (0, 255, 255),
    (85, 255, 170), (170, 255, 85), (255, 255, 0), (255, 170, 0))


def flat_palette() -> List[int]:
    """The 256-entry palette as the flat ``[r, g, b, ...]`` list ``PIL.Image.putpalette`` takes.

    Entries past the 20 classes are black, and 255 (ignore) is white so it stands out.
    """
    colours = list(LIP_PALETTE) + [(0, 0, 0)] * (256 - len(LIP_PALETTE))
    colours[IGNORE_INDEX] = (255, 255, 255)
    return [value for colour in colours for value in colour]
