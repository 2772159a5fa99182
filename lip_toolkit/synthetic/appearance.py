"""Colours and textures: a cluttered background and per-part appearance with noise, patterns and shading.

Each part class gets a colour drawn from a class-dependent prior (skin tones for face/arms/legs, hair colours,
free colours for garments), so appearance carries information about the part without giving it away: garments
share colours with the background and with each other, left and right limbs look the same, and textures,
shading, blur, noise and JPEG compression sit on top.
"""
import colorsys
import functools
from typing import List, Optional, Tuple

import cv2
import numpy as np

from . import body

_SKIN_CLASSES = (body.FACE, body.LEFT_ARM, body.RIGHT_ARM, body.LEFT_LEG, body.RIGHT_LEG)
_OCCLUDER_INDEX = 20  # colour slot for occluding objects (label 0, but not scenery)
_BYSTANDER_OFFSET = 21  # colour slots 21 + class id for a person standing behind (label 0)
# Classes that may carry printed patterns (stripes, checks); skin, hair and lenses stay plain.
_PATTERNED = frozenset([body.HAT, body.GLOVE, body.UPPER_CLOTHES, body.DRESS, body.COAT, body.SOCKS, body.PANTS,
                        body.JUMPSUIT, body.SCARF, body.SKIRT, body.LEFT_SHOE, body.RIGHT_SHOE, _OCCLUDER_INDEX])


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    s, v = min(max(float(s), 0.0), 1.0), min(max(float(v), 0.0), 1.0)
    return np.array(colorsys.hsv_to_rgb(float(h) % 1.0, s, v)) * 255.0


_NOISE_BANK_SIZE = 1024


@functools.lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """A fixed field of unit Gaussian noise; images cut windows from it at random offsets.

    Drawing fresh Gaussian noise for every image was the largest single cost; windows of one fixed field
    (seeded by a constant, so every process holds the same one) look just as random at a fraction of it.
    """
    rng = np.random.default_rng(20190615)
    return rng.standard_normal((_NOISE_BANK_SIZE, _NOISE_BANK_SIZE), dtype=np.float32)


def _noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A (H, W) float32 window of unit Gaussian noise (a view: do not write to it)."""
    bank = _noise_bank()
    row = int(rng.integers(0, _NOISE_BANK_SIZE - height + 1))
    col = int(rng.integers(0, _NOISE_BANK_SIZE - width + 1))
    return bank[row:row + height, col:col + width]


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return _hsv(rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.12, 0.95))


def _low_frequency(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Smooth random field in [-1, 1] of shape (H, W)."""
    grid = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A (H, W, 3) float32 RGB scene: gradient or split ground, smooth blotches, shapes and grain."""
    top, bottom = _random_colour(rng), _random_colour(rng)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    if rng.random() < 0.5:
        horizon = rng.uniform(0.2, 0.8)
        soft = rng.uniform(0.01, 0.15)
        weight = 1.0 / (1.0 + np.exp(-(rows - horizon) / soft))
    else:
        weight = rows
    image = (top * (1 - weight) + bottom * weight).astype(np.float32)
    image = np.broadcast_to(image, (height, width, 3)).copy()
    image += _low_frequency(rng, height, width, int(rng.integers(2, 7)))[..., None] * rng.uniform(5, 45)
    for _ in range(int(rng.integers(2, 14))):
        colour = tuple(float(c) for c in _random_colour(rng))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(5, max(6, width // 2)))
        kind = rng.random()
        if kind < 0.4:
            cv2.rectangle(image, (x, y), (x + size, y + int(rng.integers(5, height // 2))), colour, -1)
        elif kind < 0.7:
            cv2.ellipse(image, (x, y), (size, int(rng.integers(3, size + 4))), float(rng.uniform(0, 180)),
                        0, 360, colour, -1)
        else:
            x2, y2 = int(rng.integers(0, width)), int(rng.integers(0, height))
            cv2.line(image, (x, y), (x2, y2), colour, int(rng.integers(1, 6)))
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 3.0)))
    grain = _noise(rng, height, width) * np.float32(rng.uniform(2, 18))
    if rng.random() < 0.5:
        grain = cv2.GaussianBlur(grain, (0, 0), 0.8)
    grain = grain[..., None]
    return image + grain


def part_palette(rng: np.random.Generator) -> np.ndarray:
    """(21, 3) RGB colours: the 20 LIP classes (0 unused) and the occluder slot."""
    palette = np.stack([_random_colour(rng) for _ in range(21)])
    skin = _hsv(rng.uniform(0.02, 0.09), rng.uniform(0.2, 0.6), rng.uniform(0.35, 0.97))
    for cls in _SKIN_CLASSES:
        palette[cls] = skin + rng.normal(0, 4, 3)
    hair_choice = rng.random()
    if hair_choice < 0.55:
        palette[body.HAIR] = _hsv(rng.uniform(0.02, 0.1), rng.uniform(0.2, 0.7), rng.uniform(0.05, 0.3))
    elif hair_choice < 0.85:
        palette[body.HAIR] = _hsv(rng.uniform(0.06, 0.14), rng.uniform(0.3, 0.7), rng.uniform(0.4, 0.85))
    else:
        palette[body.HAIR] = _random_colour(rng)
    if rng.random() < 0.4:                          # denim
        palette[body.PANTS] = _hsv(rng.uniform(0.57, 0.64), rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.6))
    palette[body.RIGHT_SHOE] = palette[body.LEFT_SHOE]
    if rng.random() < 0.5:
        palette[body.LEFT_SHOE] = palette[body.RIGHT_SHOE] = _hsv(0, 0, rng.choice([0.1, 0.9]))
    palette[body.SUNGLASSES] = _hsv(rng.random(), 0.3, rng.uniform(0.02, 0.2))
    return palette.astype(np.float32)


def _pattern(rng: np.random.Generator, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Values in {-1, 1} for the given pixel coordinates: stripes or checks."""
    kind = rng.random()
    period = rng.uniform(3.0, 14.0)
    theta = rng.uniform(0, np.pi)
    phase = rng.uniform(0, 2 * np.pi)
    u = (cols * np.cos(theta) + rows * np.sin(theta)) * (2 * np.pi / period) + phase
    if kind < 0.6:
        return np.sign(np.sin(u)).astype(np.float32)
    v = (-cols * np.sin(theta) + rows * np.cos(theta)) * (2 * np.pi / period)
    return np.sign(np.sin(u) * np.sin(v)).astype(np.float32)


def colourize(rng: np.random.Generator, labels: np.ndarray, owners: np.ndarray,
              face_marks: List[Tuple[np.ndarray, float]], scale: float,
              bystander: Optional[Tuple[np.ndarray, np.ndarray]] = None) -> np.ndarray:
    """Render the RGB uint8 image for a painted label/owner map.

    Args:
        rng: the image's generator.
        labels: (H, W) LIP class ids of the person.
        owners: (H, W) body-part owners (0 = scenery) from the same painting.
        face_marks: (pixel centre, radius in body units) of eyes and mouth.
        scale: pixels per body unit.
        bystander: optional (labels, owners) of another person standing behind (drawn where ``owners`` is 0,
            in colours of their own; they stay background in the labels).
    """
    height, width = labels.shape
    image = background(rng, height, width)
    palette = part_palette(rng)
    slots = labels.astype(np.int64)
    slots[(owners == body.OWN_OCCLUDER)] = _OCCLUDER_INDEX
    person = owners > 0
    if bystander is not None:
        palette = np.concatenate([palette, part_palette(rng)])
        behind = (~person) & (bystander[1] > 0)
        slots[behind] = _BYSTANDER_OFFSET + bystander[0][behind]
        person = person | behind
    fine = cv2.GaussianBlur(_noise(rng, height, width), (0, 0), 1.0)
    present = np.unique(slots[person])
    amplitude = np.zeros(len(palette), np.float32)
    amplitude[present] = rng.uniform(3, 14, present.size)
    colours = palette[slots]
    colours += (amplitude[slots] * fine)[..., None]
    for slot in present:
        if int(slot) % _BYSTANDER_OFFSET not in _PATTERNED or rng.random() < 0.45:
            continue                                 # plain cloth, skin, hair
        rows, cols = np.nonzero(slots == slot)
        mix = _pattern(rng, cols.astype(np.float32), rows.astype(np.float32))
        second = _random_colour(rng).astype(np.float32)
        strength = np.float32(rng.uniform(0.15, 0.5) * 0.5)
        colours[rows, cols] += (second - palette[slot])[None, :] * (mix * strength)[:, None]
    image = np.where(person[..., None], colours, image)
    for centre, radius in face_marks:
        col, row = int(round(centre[0])), int(round(centre[1]))
        if 0 <= row < height and 0 <= col < width and labels[row, col] == body.FACE:
            cv2.circle(image, (col, row), max(1, int(round(radius * scale))),
                       tuple(float(c) for c in palette[body.FACE] * 0.35), -1)
    # Shade: soft light across the image and darker seams where parts meet.
    image *= (1.0 + _low_frequency(rng, height, width, 3) * rng.uniform(0.05, 0.25))[..., None]
    edges = np.zeros((height, width), np.float32)
    edges[:, 1:] += (owners[:, 1:] != owners[:, :-1]) | (slots[:, 1:] != slots[:, :-1])
    edges[1:, :] += (owners[1:, :] != owners[:-1, :]) | (slots[1:, :] != slots[:-1, :])
    edges = np.minimum(edges, 1.0)
    seams = cv2.GaussianBlur(edges, (0, 0), float(rng.uniform(0.6, 1.5))) * rng.uniform(0.1, 0.5)
    # A broad, faint darkening towards outlines gives limbs and torso some roundness.
    seams += cv2.GaussianBlur(edges, (0, 0), float(rng.uniform(2.5, 5.0))) * rng.uniform(0.3, 1.0)
    image *= (1.0 - np.minimum(seams, 0.7))[..., None]
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.3, 0.9)))
    # Photo defects seen in LIP: colour casts, black-and-white pictures, low-resolution upscales.
    image *= rng.uniform(0.85, 1.15, 3).astype(np.float32)
    if rng.random() < 0.04:
        image[:] = image.mean(axis=2, keepdims=True)
    if rng.random() < 0.1:
        factor = rng.uniform(0.35, 0.7)
        small = cv2.resize(image, (max(8, int(width * factor)), max(8, int(height * factor))),
                           interpolation=cv2.INTER_AREA)
        image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    # Grey sensor noise: JPEG's chroma subsampling would wash colour noise out anyway.
    image += (_noise(rng, height, width) * np.float32(rng.uniform(1.0, 6.0)))[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)
