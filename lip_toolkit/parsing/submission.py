"""The LIP parsing challenge file: a zip of ``<id>.png`` label maps, built from predicted PNGs and checked.

Format (decided here, documented in ``docs/submission.md``): one entry ``<id>.png`` per test id at the root of
the zip (``--folder NAME`` puts them in one folder instead, as the multi-person track's ``global_parsing/``),
each an 8-bit greyscale PNG whose pixel value is the class id 0-19, with exactly the size of its test image.
Greyscale is the default because every reader (``cv2.imread``, PIL) returns the ids from it; a paletted PNG
(indices = class ids, LIP colours) is written with ``paletted=True`` and is accepted by the checker too, but
``cv2.imread`` without flags would return its colours. Entries are stored (PNG is already compressed).
"""
import io
import os
import posixpath
import zipfile
from pathlib import Path
from typing import BinaryIO, Dict, Optional, Tuple, Union

import numpy as np

from ..core.errors import LipToolkitError
from ..core.progress import progress
from ..core.submission import (CheckReport, IdsLike, atomic_zip, check_ids_once, load_test_ids, normalise_id,
                               open_binary, read_image_sizes, resolve_images_dir)
from .classes import NUM_CLASSES
from .label_io import png_header, read_label_map

PathLike = Union[str, os.PathLike]
ImageSizes = Dict[str, Tuple[int, int]]


def encode_label_png(label: np.ndarray, paletted: bool = False) -> bytes:
    """The bytes of a label map saved as 8-bit grey PNG (or paletted, indices = class ids)."""
    from PIL import Image

    from .classes import flat_palette
    image = Image.fromarray(np.ascontiguousarray(label, dtype=np.uint8))  # 2-D uint8 -> mode L
    if paletted:
        image.putpalette(flat_palette())
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    return buffer.getvalue()


def make_parsing_submission(pred_dir: PathLike, test_ids: IdsLike, out: PathLike,
                            images_dir: Optional[PathLike] = None, paletted: bool = False,
                            folder: str = '') -> CheckReport:
    """Write the parsing submission zip from a folder of predicted label PNGs, checked, atomically.

    Args:
        pred_dir: ``<id>.png`` label maps (8-bit grey or paletted, values 0-19, at the test image's size), e.g.
            from ``lip-toolkit evaluate CONFIG CHECKPOINT --split test --out DIR`` or ``lip-toolkit ensemble``.
            PNGs of other ids are left out.
        test_ids: ``Testing_images/test_id.txt`` (path) or the ids in order.
        out: the zip to write; it appears only if it passes :func:`check_parsing_submission`.
        images_dir: the test images, whose sizes (read from headers) each map must have. Default:
            ``testing_images`` beside ``test_id.txt``.
        paletted: write paletted PNGs (indices = class ids) instead of 8-bit grey.
        folder: put the PNGs in this folder inside the zip (default: the zip's root).

    Returns:
        The check report of the written zip.

    Raises:
        LipToolkitError: no test images, a missing prediction, a map of the wrong size or with a value that is
            not a class id, an unreadable PNG, or a zip that fails the check.
    """
    ids = load_test_ids(test_ids)
    sizes = _required_sizes(images_dir, test_ids, ids)
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise LipToolkitError('prediction folder not found', pred_dir)
    missing = [item for item in ids if not (pred_dir / f'{item}.png').is_file()]
    if missing:
        raise LipToolkitError(f'no prediction for {len(missing)} test id(s), e.g. {missing[0]}.png', pred_dir)
    folder = folder.strip('/')
    reports = []

    def check(handle: BinaryIO) -> CheckReport:
        reports.append(check_parsing_submission(handle, ids, image_sizes=sizes))
        return reports[-1]

    with atomic_zip(out, check) as archive:
        for item in progress(ids, total=len(ids), desc='submission zip', unit='png'):
            width, height = sizes[item]
            label = read_label_map(pred_dir / f'{item}.png', 'pred', shape=(height, width))
            archive.writestr(posixpath.join(folder, f'{item}.png'), encode_label_png(label, paletted))
    return reports[-1]


def _required_sizes(images_dir: Optional[PathLike], test_ids: IdsLike, ids) -> ImageSizes:
    images_dir = resolve_images_dir(images_dir, test_ids)
    if images_dir is None:
        raise LipToolkitError('the test images are needed for the label map sizes: give --images '
                              'Testing_images/testing_images')
    return read_image_sizes(images_dir, ids)


def check_parsing_submission(source: Union[PathLike, BinaryIO], test_ids: IdsLike,
                             images_dir: Optional[PathLike] = None,
                             image_sizes: Optional[ImageSizes] = None) -> CheckReport:
    """Check a parsing submission zip.

    What is checked: a readable zip (not truncated, CRCs right); only ``<id>.png`` entries, all at the root or
    all in one folder; every id of ``test_id.txt`` exactly once and no other; each entry a PNG, 8-bit grey or
    paletted (RGB, alpha, 16-bit refused), with exactly its test image's width and height, and every pixel a
    class id 0-19 (255 = ignore is ground truth only, not a prediction).

    Args:
        source: the zip (path or binary handle).
        test_ids: ``test_id.txt`` (path) or the ids in order.
        images_dir: the test images (sizes from headers); default ``testing_images`` beside ``test_id.txt``.
        image_sizes: ``{id: (width, height)}``, instead of ``images_dir``.

    Returns:
        A :class:`CheckReport`; it does not raise for problems in the zip.

    Raises:
        LipToolkitError: the test ids or test images cannot be read (the check cannot be done).
    """
    ids = load_test_ids(test_ids)
    if image_sizes is None:
        image_sizes = _required_sizes(images_dir, test_ids, ids)
    report = CheckReport(path=str(getattr(source, 'name', source)), kind='parsing', num_expected=len(ids))
    with open_binary(source, 'submission zip') as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            report.add_error(f'not a readable zip file (truncated or damaged?): {exc}')
            return report
        with archive:
            found = _check_entries(report, archive, image_sizes)
    report.num_found = len(found)
    check_ids_once(report, found, ids)
    return report


def _check_entries(report: CheckReport, archive: zipfile.ZipFile, image_sizes: ImageSizes):
    """Check every entry of ``archive``; return ``(id, entry name)`` of the PNG entries."""
    entries = [info for info in archive.infolist() if not info.is_dir()]
    folders = sorted({posixpath.dirname(info.filename) for info in entries})
    if len(folders) > 1:
        report.add_error(f'PNGs spread over several folders ({", ".join(repr(f) for f in folders[:4])}); put '
                         'them all at the root of the zip (or all in one folder)')
    found = []
    for info in progress(entries, total=len(entries), desc='check zip', unit='png'):
        name = info.filename
        base = posixpath.basename(name)
        if not base.endswith('.png'):
            report.add_error(f'{name}: unexpected entry (only <id>.png label maps belong in the zip)')
            continue
        item = normalise_id(base, ('.png',))
        found.append((item, name))
        try:
            data = archive.read(info)
        except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
            report.add_error(f'{name}: damaged entry ({exc})')
            continue
        size = image_sizes.get(item)
        problem = _label_png_problem(data, name, size)
        if problem:
            report.add_error(f'{name}: {problem}')
    return found


def _label_png_problem(data: bytes, name: str, size: Optional[Tuple[int, int]]) -> Optional[str]:
    """What is wrong with one submitted label PNG (``None`` when nothing is)."""
    try:
        width, height, bit_depth, colour_type = png_header(data, name)
    except LipToolkitError:
        return 'not a PNG file'
    if colour_type == 0 and bit_depth != 8:
        return f'{bit_depth}-bit greyscale PNG; write 8-bit greyscale'
    if colour_type not in (0, 3):
        kind = {2: 'RGB', 4: 'greyscale+alpha', 6: 'RGBA'}.get(colour_type, f'colour type {colour_type}')
        return f'{kind} PNG; write 8-bit greyscale (or paletted) with the class id as the pixel value'
    if size is not None and (width, height) != tuple(size):
        return f'size {width}x{height} differs from its test image, {size[0]}x{size[1]} (WxH)'
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            label = np.asarray(image)
    except Exception as exc:  # PIL raises many kinds for damaged data
        return f'cannot decode PNG ({exc})'
    bad = label >= NUM_CLASSES
    if bad.any():
        y, x = np.unravel_index(int(np.argmax(bad)), bad.shape)
        return f'value {int(label[y, x])} at pixel (x={x}, y={y}) is not a class id 0-{NUM_CLASSES - 1}'
    return None
