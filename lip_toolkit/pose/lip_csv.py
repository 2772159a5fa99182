"""Read and write LIP's pose CSV files: the ground truth (``lip_{train,val}_set.csv``) and predictions.

Ground truth rows are ``<image>.jpg,x0,y0,v0,...,x15,y15,v15`` (no header; ``nan,nan,nan`` = unlabelled joint;
v: 0 visible, 1 occluded). Prediction rows are the LIP submission format ``<image>.jpg,x0,y0,...,x15,y15``;
rows in the ground-truth style (a third value per joint) are accepted too and the third value is ignored.

Every reading error is a :class:`~lip_toolkit.core.errors.LipToolkitError` naming the file and the line.
This module needs only numpy, so the offline scorer starts fast.
"""
import math
import os
import warnings
from pathlib import Path
from typing import List, Sequence, Tuple, Union

import numpy as np

from ..core.errors import LipToolkitError
from ..core.io import atomic_write

NUM_JOINTS = 16
PathLike = Union[str, os.PathLike]


def image_key(name: str) -> str:
    """The key rows are matched on: the image name without a trailing ``.jpg``."""
    return name[:-4] if name.endswith('.jpg') else name


def read_lip_gt_csv(path: PathLike) -> Tuple[List[str], np.ndarray]:
    """Read a LIP ground-truth pose CSV.

    Args:
        path: a ``lip_{train,val}_set.csv`` file (49 fields a row).

    Returns:
        ``(names, keypoints)``: the image names as written (``'100034_483681.jpg'``) and a float64 array of
        shape (N, 16, 3) holding x, y, v; ``nan`` marks an unlabelled joint.

    Raises:
        LipToolkitError: missing or empty file, wrong field count, a non-numeric or negative value, or an image
            name that appears twice (the message names the file and the line).
    """
    names, values, _ = _read_rows(path, allowed_joint_sizes=(3,), what='ground-truth')
    return names, values


def read_lip_pred_csv(path: PathLike) -> Tuple[List[str], np.ndarray]:
    """Read a LIP pose prediction CSV (the submission format, or ground-truth style rows).

    Args:
        path: a CSV with rows ``<image>.jpg,x0,y0,...,x15,y15`` (33 fields) or with a third value per joint
            (49 fields). All rows must have the same number of fields. ``nan`` marks a missing prediction.

    Returns:
        ``(names, coords)``: the image names as written and a float64 array of shape (N, 16, 2).

    Raises:
        LipToolkitError: as :func:`read_lip_gt_csv`.
    """
    names, coords, _ = read_lip_pred_rows(path)
    return names, coords


def read_lip_pred_rows(path: PathLike) -> Tuple[List[str], np.ndarray, List[int]]:
    """:func:`read_lip_pred_csv`, plus the line number of each row (for error messages)."""
    names, values, line_numbers = _read_rows(path, allowed_joint_sizes=(2, 3), what='prediction')
    return names, values[..., :2].copy(), line_numbers


def write_lip_pred_csv(path: PathLike, names: Sequence[str], coords: np.ndarray, decimals: int = 0) -> Path:
    """Write predictions in the LIP submission format, atomically.

    Coordinates are original-image pixels. Negative values (a joint predicted left of or above the image) are
    clipped to 0, since a CSV row with a negative number is not a valid submission; ``nan`` is written as
    ``nan``. With ``decimals=0`` (the submission format) values are rounded to integers.

    Args:
        path: the CSV to write.
        names: image names; ``.jpg`` is appended where missing.
        coords: array (N, 16, 2) (a third value per joint, if present, is dropped).
        decimals: digits after the decimal point.

    Returns:
        The path written.
    """
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 3 or coords.shape[1] != NUM_JOINTS or coords.shape[2] < 2:
        raise ValueError(f'coords must have shape (N, {NUM_JOINTS}, 2), got {coords.shape}')
    if len(names) != coords.shape[0]:
        raise ValueError(f'{len(names)} names for {coords.shape[0]} rows of coordinates')
    coords = np.round(np.clip(coords[..., :2], 0, None), decimals)
    path = Path(path)
    with atomic_write(path, 'w', newline='') as handle:
        for name, row in zip(names, coords.reshape(len(names), -1)):
            name = str(name)
            if not name.endswith('.jpg'):
                name += '.jpg'
            handle.write(name + ',' + ','.join(_format_value(v, decimals) for v in row) + '\n')
    return path


def _format_value(value: float, decimals: int) -> str:
    if math.isnan(value):
        return 'nan'
    if decimals <= 0:
        return str(int(value))
    return f'{value:.{decimals}f}'


def _read_rows(path: PathLike, allowed_joint_sizes: Tuple[int, ...], what: str):
    """Parse a LIP pose CSV into (names, values (N, 16, k), line numbers), checking every row."""
    path = Path(path)
    if not path.is_file():
        raise LipToolkitError(f'{what} CSV not found', path)
    allowed_fields = {1 + NUM_JOINTS * k: k for k in allowed_joint_sizes}
    expected = ' or '.join(str(n) for n in sorted(allowed_fields))
    names, line_numbers, bodies = [], [], []
    first_seen = {}
    num_fields = None
    with open(path, encoding='utf-8-sig', errors='replace') as handle:
        text = handle.read()
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        name, _, body = line.partition(',')
        fields = body.count(',') + 2 if body else 1
        if num_fields is None:
            if fields not in allowed_fields:
                raise LipToolkitError(f'expected {expected} comma-separated fields a row (image name, then '
                                      f'{NUM_JOINTS} joints), got {fields}', path, f'line {line_no}')
            num_fields = fields
        elif fields != num_fields:
            raise LipToolkitError(f'expected {num_fields} fields like the first row, got {fields}', path,
                                  f'line {line_no}')
        name = name.strip()
        if not name:
            raise LipToolkitError('empty image name', path, f'line {line_no}')
        key = image_key(name)
        if key in first_seen:
            raise LipToolkitError(f'image {name!r} appears twice (first on line {first_seen[key]})', path,
                                  f'line {line_no}')
        first_seen[key] = line_no
        names.append(name)
        line_numbers.append(line_no)
        bodies.append(body)
    if not names:
        raise LipToolkitError(f'{what} CSV is empty', path)
    per_row = num_fields - 1
    values = _parse_numbers(','.join(bodies), len(names) * per_row)
    if values is None:
        _raise_first_non_numeric(path, bodies, per_row, line_numbers)
    values = values.reshape(len(names), per_row)
    bad = np.isinf(values) | (values < 0)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        problem = 'infinite' if np.isinf(values[row, column]) else 'negative'
        text_value = bodies[row].split(',')[column].strip()
        raise LipToolkitError(f'{problem} value {text_value!r} in field {column + 2} (write nan for a missing '
                              'joint)', path, f'line {line_numbers[row]}')
    return names, values.reshape(len(names), NUM_JOINTS, allowed_fields[num_fields]), line_numbers


def _parse_numbers(text: str, count: int):
    """All comma-separated numbers of ``text`` in one C-level pass, or None if any field is not a number."""
    with warnings.catch_warnings():
        # numpy < 2 warns (later versions raise) where a field is not a number and stops there.
        warnings.simplefilter('error', DeprecationWarning)
        try:
            values = np.fromstring(text, dtype=np.float64, sep=',')
        except (DeprecationWarning, ValueError):
            return None
    return values if values.size == count else None


def _raise_first_non_numeric(path: Path, bodies: List[str], per_row: int, line_numbers: List[int]):
    for row, body in enumerate(bodies):
        for column, text in enumerate(body.split(',')):
            try:
                float(text)
            except ValueError:
                raise LipToolkitError(f'non-numeric value {text.strip()!r} in field {column + 2}', path,
                                      f'line {line_numbers[row]}') from None
    raise LipToolkitError('unreadable numbers', path)  # numpy refused a value float() accepts
