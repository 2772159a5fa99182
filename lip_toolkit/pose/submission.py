"""The LIP pose challenge file: build it from a predictions CSV and check it.

Format (decided here, documented in ``docs/submission.md``): one row per test image, in ``test_id.txt`` order,
no header::

    <id>.jpg,x0,y0,x1,y1,...,x15,y15

32 non-negative integers in LIP joint order (MPII order), in pixels of the original test image (x = column,
y = row, 0-based, inside the image), no visibility column. A joint without a prediction is ``nan,nan``
(both values; GCCPM writes this, and the reference scorer turns it into pixel (1, 1)). Rows follow
``test_id.txt`` because the reference PCKh scripts match rows by position, not by name.
"""
import math
import os
import re
from typing import BinaryIO, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import LipToolkitError
from ..core.submission import (CheckReport, IdsLike, check_ids_once, checked_atomic_write, load_test_ids,
                               normalise_id, open_binary, read_image_sizes, resolve_images_dir)
from .lip_csv import NUM_JOINTS, read_lip_pred_csv

PathLike = Union[str, os.PathLike]
ImageSizes = Dict[str, Tuple[int, int]]

NUM_FIELDS = 1 + 2 * NUM_JOINTS
_INTEGER = re.compile(r'-?[0-9]+')


def make_pose_submission(pred_csv: PathLike, test_ids: IdsLike, out: PathLike,
                         images_dir: Optional[PathLike] = None) -> CheckReport:
    """Write the pose submission CSV from predictions of the test split, checked, atomically.

    Rows of ``pred_csv`` are matched to ``test_id.txt`` by image name and written in ``test_id.txt`` order.
    Coordinates are rounded to integers and clipped into the image (negative values to 0; with the test
    images known, also to ``width - 1`` / ``height - 1``). A joint with one coordinate missing is written
    ``nan,nan``.

    Args:
        pred_csv: predictions in the LIP format (2 or 3 values per joint), e.g. from ``lip-toolkit evaluate
            CONFIG CHECKPOINT --split test --out pred.csv`` or ``lip-toolkit ensemble``.
        test_ids: ``Testing_images/test_id.txt`` (path) or the ids in order.
        out: the CSV to write; it appears only if it passes :func:`check_pose_submission`.
        images_dir: the test images (for clipping and range checks; headers only). Default:
            ``testing_images`` beside ``test_id.txt`` when it exists.

    Returns:
        The check report of the written file.

    Raises:
        LipToolkitError: unreadable predictions, a test id without a prediction, a prediction for an image
            that is not a test image, or a file that fails the check.
    """
    ids = load_test_ids(test_ids)
    images_dir = resolve_images_dir(images_dir, test_ids)
    names, coords = read_lip_pred_csv(pred_csv)
    row_of = {normalise_id(name): row for row, name in enumerate(names)}
    known = set(ids)
    unknown = [name for name in names if normalise_id(name) not in known]
    if unknown:
        raise LipToolkitError(f'{len(unknown)} prediction(s) for images not in test_id.txt, e.g. {unknown[0]!r} '
                              '(predict the test split)', pred_csv)
    missing = [item for item in ids if item not in row_of]
    if missing:
        raise LipToolkitError(f'no prediction for {len(missing)} test id(s), e.g. {missing[0]!r}', pred_csv)
    ordered = coords[[row_of[item] for item in ids]].astype(np.float64)
    sizes = read_image_sizes(images_dir, ids) if images_dir is not None else None
    ordered = _round_into_images(ordered, ids, sizes)

    reports = []

    def check(handle: BinaryIO) -> CheckReport:
        reports.append(check_pose_submission(handle, ids, image_sizes=sizes))
        return reports[-1]

    with checked_atomic_write(out, check) as handle:
        handle.write(format_rows(ids, ordered).encode('utf-8'))
    return reports[-1]


def _round_into_images(coords: np.ndarray, ids: Sequence[str], sizes: Optional[ImageSizes]) -> np.ndarray:
    """Round to integers, clip into the image, and make a joint with any missing coordinate ``nan, nan``."""
    coords = coords.copy()
    coords[np.isnan(coords).any(axis=2)] = np.nan
    coords = np.round(coords)
    coords = np.where(np.isnan(coords), np.nan, np.maximum(coords, 0))
    if sizes is not None:
        limits = np.array([[sizes[item][0] - 1, sizes[item][1] - 1] for item in ids], dtype=np.float64)
        coords = np.where(np.isnan(coords), np.nan, np.minimum(coords, limits[:, None, :]))
    return coords


def format_rows(ids: Sequence[str], coords: np.ndarray) -> str:
    """The CSV text: ``<id>.jpg`` then 32 integers (or ``nan``) a row, ``\\n`` line ends."""
    lines = []
    for item, row in zip(ids, coords.reshape(len(ids), -1)):
        values = ','.join('nan' if math.isnan(v) else str(int(v)) for v in row)
        lines.append(f'{item}.jpg,{values}\n')
    return ''.join(lines)


def check_pose_submission(source: Union[PathLike, BinaryIO], test_ids: IdsLike,
                          images_dir: Optional[PathLike] = None,
                          image_sizes: Optional[ImageSizes] = None) -> CheckReport:
    """Check a pose submission CSV: format, every test id exactly once and in order, integer coordinates.

    What is checked: UTF-8/ASCII text without a byte-order mark and without blank lines; exactly 33 fields a
    row; the first field ``<id>.jpg``; every id of ``test_id.txt`` exactly once, no other id, rows in
    ``test_id.txt`` order; coordinates non-negative integers or ``nan`` (both of a joint, or neither); with
    image sizes known, ``x < width`` and ``y < height``.

    Args:
        source: the CSV file (path or binary handle).
        test_ids: ``test_id.txt`` (path) or the ids in order.
        images_dir: the test images (sizes from headers); default ``testing_images`` beside ``test_id.txt``.
        image_sizes: ``{id: (width, height)}``, instead of ``images_dir``.

    Returns:
        A :class:`CheckReport`; it does not raise for problems in the file.
    """
    ids = load_test_ids(test_ids)
    if image_sizes is None:
        images_dir = resolve_images_dir(images_dir, test_ids)
        image_sizes = read_image_sizes(images_dir, ids) if images_dir is not None else None
    report = CheckReport(path=str(getattr(source, 'name', source)), kind='pose', num_expected=len(ids))
    with open_binary(source, 'submission CSV') as handle:
        data = handle.read()
    if data.startswith(b'\xef\xbb\xbf'):
        report.add_error('line 1: file starts with a UTF-8 byte-order mark')
        data = data[3:]
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        report.add_error(f'not UTF-8 text (byte {exc.start})')
        return report
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # trailing blank lines are harmless
    found = []
    nan_joints = 0
    for line_no, line in enumerate(lines, 1):
        where = f'line {line_no}'
        if not line.strip():
            report.add_error(f'{where}: blank line')
            continue
        fields = line.split(',')
        name = fields[0].strip()
        item = normalise_id(name, ('.jpg',))
        found.append((item, where))
        if len(fields) != NUM_FIELDS:
            report.add_error(f'{where}: expected {NUM_FIELDS} fields (<id>.jpg then x,y of {NUM_JOINTS} '
                             f'joints), got {len(fields)}')
            continue
        if not name.endswith('.jpg'):
            report.add_error(f'{where}: first field {name!r} should be the image name <id>.jpg')
        size = image_sizes.get(item) if image_sizes is not None else None
        nan_joints += _check_coordinates(report, where, fields[1:], size)
    report.num_found = len(found)
    if not found and report.ok:
        report.add_error('file holds no rows')
    check_ids_once(report, found, ids, check_order=True)
    if nan_joints:
        report.notes.append(f'{nan_joints} joint(s) written nan,nan (missing predictions)')
    if image_sizes is None:
        report.notes.append('coordinates not checked against image sizes (no test images folder)')
    return report


def _check_coordinates(report: CheckReport, where: str, values: Sequence[str],
                       size: Optional[Tuple[int, int]]) -> int:
    """Check 32 coordinate fields of one row; return how many joints are ``nan,nan``."""
    nan_joints = 0
    for joint in range(NUM_JOINTS):
        pair = [values[2 * joint].strip(), values[2 * joint + 1].strip()]
        is_nan = [v.lower() == 'nan' for v in pair]
        if all(is_nan):
            nan_joints += 1
            continue
        if any(is_nan):
            report.add_error(f'{where}: joint {joint} has one nan coordinate; write nan,nan or two integers')
            return nan_joints
        for axis, text in enumerate(pair):
            field = 2 + 2 * joint + axis
            if not _INTEGER.fullmatch(text):
                problem = 'non-numeric' if not _is_float(text) else 'non-integer'
                report.add_error(f'{where}: {problem} value {text!r} in field {field} (integer pixels or nan)')
                return nan_joints
            value = int(text)
            if value < 0:
                report.add_error(f'{where}: negative value {text!r} in field {field}')
                return nan_joints
            if size is not None and value >= size[axis]:
                report.add_error(f'{where}: {"xy"[axis]}={value} in field {field} is outside the '
                                 f'{size[0]}x{size[1]} test image')
                return nan_joints
    return nan_joints


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


