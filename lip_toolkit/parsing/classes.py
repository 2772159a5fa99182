"""LIP's 20 parsing classes, the colours used to draw them, and the label pairs a horizontal flip swaps.

Class names and order are those of the LIP release as CE2P's and SCHP's evaluators list them (id = index).
The palette is the PASCAL VOC colour map, which CE2P and SCHP use for the paletted PNGs they save; a PNG written
with :data:`LIP_PALETTE` therefore looks the same as theirs, and reading it with PIL gives back the class ids.
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


def voc_colormap(num_colors: int = 256) -> List[Tuple[int, int, int]]:
    """The PASCAL VOC colour map: the bits of the index are spread over R, G and B from the top bit down.

    Bit 0 of the index goes to red, bit 1 to green, bit 2 to blue (bit 7 of each channel), the next three
    bits to bit 6 of each channel, and so on.

    Example:
        >>> voc_colormap(4)
        [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0)]
    """
    colours = []
    for index in range(num_colors):
        channels = [0, 0, 0]
        for level in range(8):
            for channel in range(3):
                bit = (index >> (3 * level + channel)) & 1
                channels[channel] |= bit << (7 - level)
        colours.append(tuple(channels))
    return colours


LIP_PALETTE: Tuple[Tuple[int, int, int], ...] = tuple(voc_colormap(NUM_CLASSES))


def flat_palette() -> List[int]:
    """The 256-entry palette as the flat ``[r, g, b, ...]`` list ``PIL.Image.putpalette`` takes.

    Entries past the 20 classes follow the same VOC map, and 255 (ignore) is white so it stands out.
    """
    colours = voc_colormap(256)
    colours[IGNORE_INDEX] = (255, 255, 255)
    return [value for colour in colours for value in colour]
