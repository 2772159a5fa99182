"""Read parsing label maps (ground truth and predictions) as class-index arrays, with one-line errors.

A LIP label map is a PNG whose pixel values are class ids: either 8-bit grey or paletted. For a paletted PNG
the *index* is the class id and the palette only decides how it looks, so it must never be read as colours
(``cv2.imread`` would do exactly that). Everything that is not one of those two kinds is refused with an error
that names the file, since guessing (say, converting colours to grey) would silently score the wrong numbers.

Only numpy, OpenCV and PIL are used here, so the offline scorer's worker processes start fast.
"""
import io
import os
import struct
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..core.errors import LipToolkitError
from .classes import IGNORE_INDEX, NUM_CLASSES

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_COLOUR_TYPES = {0: 'grey', 2: 'RGB', 3: 'paletted', 4: 'grey+alpha', 6: 'RGBA'}


def png_header(data: bytes, path) -> Tuple[int, int, int, int]:
    """Return ``(width, height, bit_depth, colour_type)`` from a PNG's IHDR chunk.

    Raises:
        LipToolkitError: the bytes are not a PNG.
    """
    if len(data) < 33 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b'IHDR':
        raise LipToolkitError('not a PNG file (label maps must be PNG)', path)
    width, height, bit_depth, colour_type = struct.unpack('>IIBB', data[16:26])
    return width, height, bit_depth, colour_type


def _read_bytes(path) -> bytes:
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        raise LipToolkitError('file not found', path) from None
    except IsADirectoryError:
        raise LipToolkitError('is a folder, expected a PNG file', path) from None
    except OSError as exc:
        raise LipToolkitError(f'cannot read: {exc.strerror}', path) from None


def _decode_with_cv2(data: bytes, path, flags) -> np.ndarray:
    import cv2
    array = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if array is None:
        raise LipToolkitError('could not decode PNG (corrupt or truncated file)', path)
    return array


def _decode_paletted(data: bytes, path) -> np.ndarray:
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.mode != 'P':
                raise LipToolkitError(f'paletted PNG decoded as mode {image.mode}', path)
            return np.asarray(image)
    except LipToolkitError:
        raise
    except Exception as exc:  # PIL raises many kinds for damaged files
        raise LipToolkitError(f'could not decode PNG ({exc})', path) from None


def decode_label_png(path, rgb_channel: Optional[str] = None) -> np.ndarray:
    """Decode a label PNG to its 2-D array of indices (``uint8``), never to colours.

    Args:
        path: the PNG file.
        rgb_channel: for sources that store labels in one channel of a colour PNG (MHP v2 keeps them in red),
            ``'R'``, ``'G'`` or ``'B'`` selects that channel. ``None`` (default) refuses colour PNGs.

    Returns:
        ``(H, W)`` uint8 array.

    Raises:
        LipToolkitError: missing or unreadable file, not a PNG, not 8-bit, or colour where an index was expected.
    """
    data = _read_bytes(path)
    _, _, bit_depth, colour_type = png_header(data, path)
    kind = _COLOUR_TYPES.get(colour_type, f'colour type {colour_type}')
    if colour_type == 3:
        return _decode_paletted(data, path)
    if bit_depth != 8:
        raise LipToolkitError(f'{bit_depth}-bit {kind} PNG; label maps must be 8-bit grey or paletted', path)
    if colour_type == 0:
        import cv2
        label = _decode_with_cv2(data, path, cv2.IMREAD_UNCHANGED)
        if label.ndim != 2:  # a transparency chunk can make OpenCV add an alpha channel
            raise LipToolkitError('grey PNG decoded with an alpha channel; save a plain 8-bit grey PNG', path)
        return label
    if colour_type in (2, 6) and rgb_channel is not None:
        import cv2
        bgr = _decode_with_cv2(data, path, cv2.IMREAD_COLOR)
        return np.ascontiguousarray(bgr[:, :, {'B': 0, 'G': 1, 'R': 2}[rgb_channel.upper()]])
    hint = ''
    if colour_type in (2, 6):
        import cv2
        bgr = _decode_with_cv2(data, path, cv2.IMREAD_COLOR)
        if (bgr[:, :, 0] == bgr[:, :, 1]).all() and (bgr[:, :, 1] == bgr[:, :, 2]).all():
            hint = ' (its three channels are equal: save a single channel)'
    raise LipToolkitError(
        f'{kind} PNG where a label map was expected: save class ids as 8-bit grey or paletted PNG, '
        f'not colours{hint}', path)


def first_pixel(mask: np.ndarray) -> str:
    """Describe the first (row-major) True pixel of ``mask`` as ``'pixel (x=X, y=Y)'``."""
    y, x = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return f'pixel (x={x}, y={y})'


def check_label_values(label: np.ndarray, path, allow_ignore: bool, num_classes: int = NUM_CLASSES) -> None:
    """Raise a :class:`LipToolkitError` naming the first pixel whose value is not a class id.

    Args:
        label: ``(H, W)`` integer array.
        path: the file it came from (for the message).
        allow_ignore: whether 255 (ignore) is allowed, as it is in ground truth but not in predictions.
        num_classes: valid ids are ``0 .. num_classes-1``.
    """
    bad = label >= num_classes
    if allow_ignore:
        bad &= label != IGNORE_INDEX
    if bad.any():
        y, x = np.unravel_index(int(np.argmax(bad)), bad.shape)
        allowed = f'0-{num_classes - 1}' + (f' or {IGNORE_INDEX}' if allow_ignore else '')
        raise LipToolkitError(f'label {int(label[y, x])} is not a class id ({allowed})', path,
                              f'pixel (x={x}, y={y})')


def check_same_size(label: np.ndarray, shape: Tuple[int, int], path, reference: str = 'ground truth') -> None:
    """Raise if ``label`` is not ``shape`` (H, W): predictions must be scored at the original size."""
    if tuple(label.shape[:2]) != tuple(shape[:2]):
        raise LipToolkitError(
            f'size {label.shape[1]}x{label.shape[0]} (WxH) differs from the {reference} '
            f'{shape[1]}x{shape[0]}', path)


def read_label_map(path, role: str = 'gt', shape: Optional[Tuple[int, int]] = None,
                   num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Read a ground-truth or predicted label map, checked.

    Args:
        path: PNG file (8-bit grey or paletted).
        role: ``'gt'`` (values 0-19 or 255) or ``'pred'`` (values 0-19 only).
        shape: when given, the ``(H, W)`` the map must have (the ground truth's, for a prediction).
        num_classes: number of classes (20 for LIP).

    Returns:
        ``(H, W)`` uint8 array of class ids.

    Example:
        >>> import numpy as np, tempfile, cv2, os
        >>> path = os.path.join(tempfile.mkdtemp(), 'a.png')
        >>> _ = cv2.imwrite(path, np.array([[0, 19], [255, 3]], np.uint8))
        >>> read_label_map(path, 'gt').tolist()
        [[0, 19], [255, 3]]
    """
    if role not in ('gt', 'pred'):
        raise ValueError(f"role must be 'gt' or 'pred', got {role!r}")
    label = decode_label_png(path)
    if shape is not None:
        check_same_size(label, shape, path)
    check_label_values(label, path, allow_ignore=role == 'gt', num_classes=num_classes)
    return label


def write_label_png(path, label: np.ndarray, paletted: bool = True) -> None:
    """Write a label map atomically: a paletted PNG with :data:`LIP_PALETTE` colours, or plain 8-bit grey.

    Either way the stored value of each pixel is its class id, so both read back identically.
    """
    from PIL import Image

    from ..core.io import atomic_write
    from .classes import flat_palette
    label = np.asarray(label)
    if label.ndim != 2 or label.min(initial=0) < 0 or label.max(initial=0) > 255:
        raise ValueError('label map must be 2-D with values 0-255')
    image = Image.fromarray(np.ascontiguousarray(label, dtype=np.uint8))
    if paletted:
        image.putpalette(flat_palette())  # turns the grey image into a paletted one, values kept as indices
    with atomic_write(path, 'wb') as handle:
        image.save(handle, format='PNG')


def list_label_ids(folder) -> list:
    """Sorted file stems of the ``*.png`` files directly in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LipToolkitError('folder not found', folder)
    return sorted(entry.name[:-4] for entry in os.scandir(folder)
                  if entry.name.endswith('.png') and entry.is_file())
