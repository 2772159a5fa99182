"""Read any common image file as an 8-bit BGR array; write pictures atomically.

One reader for the whole toolkit, so that every command accepts the same files: JPEG (also CMYK), PNG with or
without alpha, greyscale, paletted, 16-bit, TIFF, BMP, WebP. Whatever is wrong with a file becomes one
:class:`~lip_toolkit.core.errors.LipToolkitError` naming it. Label maps (class ids, not pictures) are read and
written by :mod:`lip_toolkit.parsing.label_io`.
"""
import os
from pathlib import Path
from typing import Union

import numpy as np

from .errors import LipToolkitError
from .io import atomic_write

PathLike = Union[str, os.PathLike]

#: File name endings that the folder scanners (``predict``, ``visualize``) treat as images.
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def _open_pil(path: Path):
    """Open and fully decode ``path`` with PIL, turning every failure into a one-line error."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    if not path.exists():
        raise LipToolkitError('image not found', path)
    if path.is_dir():
        raise LipToolkitError('is a folder, not an image', path)
    try:
        with Image.open(path) as handle:
            handle.load()  # decode now: a truncated file fails here, not later
            # Honour the EXIF orientation as viewers and cv2.imread do.
            image = ImageOps.exif_transpose(handle)
            if image is handle:
                image = handle.copy()
    except UnidentifiedImageError:
        raise LipToolkitError('not an image file (or a format PIL cannot read)', path) from None
    except Image.DecompressionBombError as exc:
        raise LipToolkitError(f'image too large to decode safely: {exc}', path) from None
    except (OSError, SyntaxError, ValueError) as exc:
        # PIL reports truncated or corrupt data as OSError ('image file is truncated ...') or SyntaxError.
        raise LipToolkitError(f'cannot decode image ({exc})', path) from None
    return image


def probe_image(path: PathLike) -> None:
    """Check cheaply, from the file header only, that ``path`` is an image PIL can open.

    Catches missing, empty, foreign and unrecognised files before any work starts; damage further into the file
    (a truncated JPEG) shows only when :func:`read_image_bgr` decodes it.

    Raises:
        LipToolkitError: as :func:`read_image_bgr`, for what the header shows.
    """
    from PIL import Image, UnidentifiedImageError
    path = Path(path)
    if not path.exists():
        raise LipToolkitError('image not found', path)
    if path.is_dir():
        raise LipToolkitError('is a folder, not an image', path)
    try:
        with Image.open(path):
            pass
    except UnidentifiedImageError:
        raise LipToolkitError('not an image file (or a format PIL cannot read)', path) from None
    except Image.DecompressionBombError as exc:
        raise LipToolkitError(f'image too large to decode safely: {exc}', path) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise LipToolkitError(f'cannot decode image ({exc})', path) from None


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Scale a 16-bit, 32-bit integer or float single-channel array to 0..255."""
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        finite = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        # Floats in [0, 1] are intensities; anything else is taken as 0..255.
        scale = 255.0 if finite.size and finite.max() <= 1.0 else 1.0
        return np.clip(np.rint(finite * scale), 0, 255).astype(np.uint8)
    values = array.astype(np.int64)
    # 16-bit data (PNG 'I;16', or 'I' holding 16-bit values) maps 65535 to 255; 8-bit values in a wide type stay.
    if values.size and values.max() > 255:
        return np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
    return np.clip(values, 0, 255).astype(np.uint8)


def read_image_bgr(path: PathLike) -> np.ndarray:
    """Read an image file as an ``H x W x 3`` uint8 BGR array (the layout cv2 and MMPose/MMSeg use).

    Transparent images are composited on white, greyscale is expanded to three channels, 16-bit images are
    scaled to 8 bits, CMYK and paletted images are converted, and the EXIF orientation is applied.

    Args:
        path: the image file.

    Returns:
        ``np.ndarray`` of shape ``(H, W, 3)``, dtype uint8, channels in BGR order.

    Raises:
        LipToolkitError: the file is missing, a folder, empty, truncated, not an image, or too large.
    """
    path = Path(path)
    from PIL import Image
    image = _open_pil(path)
    mode = image.mode
    if mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La') or (mode in ('P', 'L', 'RGB') and 'transparency' in image.info):
        rgba = image.convert('RGBA')
        background = Image.new('RGBA', rgba.size, (255, 255, 255, 255))
        rgb = np.asarray(Image.alpha_composite(background, rgba).convert('RGB'))
    elif mode in ('I', 'I;16', 'I;16B', 'I;16L', 'I;16N', 'F'):
        grey = _to_uint8(np.asarray(image))
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
    elif mode == '1':
        rgb = np.asarray(image.convert('RGB'))
    else:
        # RGB, L, P, CMYK, YCbCr, LAB, HSV: PIL knows the conversion.
        rgb = np.asarray(image.convert('RGB'))
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise LipToolkitError(f'image has an unusable shape {rgb.shape}', path)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def encode_image(image: np.ndarray, suffix: str = '.png') -> bytes:
    """Encode a BGR (or single-channel) uint8 array to the bytes of a ``suffix`` file (``.png``, ``.jpg``)."""
    import cv2
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if suffix.lower() in ('.jpg', '.jpeg') else []
    ok, buffer = cv2.imencode(suffix, np.ascontiguousarray(image), params)
    if not ok:
        raise LipToolkitError(f'cannot encode an image as {suffix}')
    return buffer.tobytes()


def write_image(path: PathLike, image: np.ndarray) -> Path:
    """Write a BGR uint8 picture (format from the suffix) atomically: the file is complete or absent."""
    path = Path(path)
    data = encode_image(image, path.suffix or '.png')
    with atomic_write(path, 'wb') as handle:
        handle.write(data)
    return path


def find_image(folder: PathLike, name: str) -> Path:
    """The image called ``name`` in ``folder``: the exact file name, else the same stem with any image suffix.

    LIP names images ``<id>.jpg``; users' folders may hold ``<id>.png`` or ``<id>.JPG`` instead.
    """
    folder = Path(folder)
    exact = folder / name
    if exact.is_file():
        return exact
    stem = Path(name).stem if Path(name).suffix.lower() in IMAGE_SUFFIXES else name
    for suffix in IMAGE_SUFFIXES:
        for variant in (suffix, suffix.upper()):
            candidate = folder / f'{stem}{variant}'
            if candidate.is_file():
                return candidate
    raise LipToolkitError(f'no image named {name!r} (any of {", ".join(IMAGE_SUFFIXES)})', folder)


def collect_images(inputs) -> list:
    """Expand files and folders into a sorted, duplicate-free list of image files.

    A folder contributes the image files directly inside it (by suffix, case-insensitive, hidden files
    skipped); a file given by name is taken whatever its suffix (the reader checks its content).

    Raises:
        LipToolkitError: an input that does not exist, or no image at all.
    """
    found, seen = [], set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            members = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith('.')
                             and p.suffix.lower() in IMAGE_SUFFIXES)
            if not members:
                raise LipToolkitError(f'folder holds no images ({", ".join(IMAGE_SUFFIXES)})', path)
        elif path.is_file():
            members = [path]
        else:
            raise LipToolkitError('input not found', path)
        for member in members:
            key = member.resolve()
            if key not in seen:
                seen.add(key)
                found.append(member)
    if not found:
        raise LipToolkitError('no input images given')
    return found
