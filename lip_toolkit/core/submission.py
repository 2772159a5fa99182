"""What the two challenge submission formats share: the check report, id bookkeeping, image sizes, atomic zips.

A submission is written to a temporary file beside its destination, checked there by the same checker that
``lip-toolkit submit --check`` runs, and only then renamed into place: a file that fails the check, or a crash
half-way, leaves no file at all (see :func:`checked_atomic_write`).

The track-specific parts live in :mod:`lip_toolkit.pose.submission` (CSV) and
:mod:`lip_toolkit.parsing.submission` (zip of PNG label maps); :func:`lip_toolkit.submission.check_submission`
picks one by file type (outside ``core``, which imports neither track).
"""
import contextlib
import dataclasses
import os
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from .errors import LipToolkitError
from .io import atomic_write, read_id_list

PathLike = Union[str, os.PathLike]
#: ``test_ids`` arguments take the path of ``test_id.txt`` or the ids themselves.
IdsLike = Union[PathLike, Sequence[str]]

#: At most this many problems are listed in a report; the rest are counted.
MAX_LISTED_ERRORS = 20


@dataclasses.dataclass
class CheckReport:
    """The outcome of checking one submission file.

    Attributes:
        path: the file checked (for messages).
        kind: ``'pose'`` or ``'parsing'``.
        num_expected: how many ids ``test_id.txt`` lists.
        num_found: how many entries (rows, PNGs) the file holds.
        errors: one-line problems, each starting with where it is (``line 3: ...``, ``1000_1.png: ...``);
            at most :data:`MAX_LISTED_ERRORS` are kept.
        num_errors: the number of problems found, listed or not.
        notes: facts worth showing even when the file is valid (``sizes not checked: no --images``).
    """

    path: str
    kind: str
    num_expected: int = 0
    num_found: int = 0
    errors: List[str] = dataclasses.field(default_factory=list)
    num_errors: int = 0
    notes: List[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.num_errors == 0

    def add_error(self, message: str) -> None:
        """Record a problem; only the first :data:`MAX_LISTED_ERRORS` are kept verbatim."""
        self.num_errors += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(message)

    def summary(self) -> str:
        """A multi-line human summary: ``OK``/``FAILED`` with counts, then the listed problems and notes."""
        if self.ok:
            lines = [f'OK {self.path}: {self.kind} submission, {self.num_found} of {self.num_expected} ids']
        else:
            lines = [f'FAILED {self.path}: {self.kind} submission, {self.num_errors} problem(s)']
            lines += [f'  {message}' for message in self.errors]
            if self.num_errors > len(self.errors):
                lines.append(f'  ... and {self.num_errors - len(self.errors)} more')
        lines += [f'  note: {note}' for note in self.notes]
        return '\n'.join(lines)

    def raise_if_failed(self) -> 'CheckReport':
        """Raise :class:`LipToolkitError` with the first problem (and the count) unless the file is valid."""
        if not self.ok:
            more = f' (and {self.num_errors - 1} more problem(s))' if self.num_errors > 1 else ''
            raise LipToolkitError(f'invalid {self.kind} submission: {self.errors[0]}{more}', self.path)
        return self

    def to_dict(self) -> dict:
        return dict(dataclasses.asdict(self), ok=self.ok)


def normalise_id(name: str, suffixes: Tuple[str, ...] = ('.jpg', '.png')) -> str:
    """The id of a file name as ``test_id.txt`` writes it: ``'100034_483681.jpg'`` -> ``'100034_483681'``."""
    name = name.strip()
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def load_test_ids(test_ids: IdsLike) -> List[str]:
    """The test ids in order, from a ``test_id.txt`` path or a sequence of ids (suffixes dropped)."""
    if isinstance(test_ids, (str, os.PathLike)):
        return read_id_list(test_ids)
    ids = [normalise_id(str(i)) for i in test_ids]
    if len(set(ids)) != len(ids):
        raise ValueError('test ids repeat')
    return ids


def check_ids_once(report: CheckReport, found: Sequence[Tuple[str, str]], expected: Sequence[str],
                   check_order: bool = False) -> None:
    """Add to ``report`` every id of ``expected`` that is missing and every found id that repeats or is unknown.

    Args:
        report: collects the problems.
        found: ``(id, where)`` pairs in file order; ``where`` names the place (``line 4``, ``x/1_2.png``).
        expected: the ids of ``test_id.txt`` in order.
        check_order: also require ``found`` to follow ``expected`` order (the pose CSV is scored row by row).
    """
    expected_set = set(expected)
    first_place: Dict[str, str] = {}
    for item, where in found:
        if item in first_place:
            report.add_error(f'{where}: id {item!r} appears twice (first at {first_place[item]})')
        elif item not in expected_set:
            report.add_error(f'{where}: id {item!r} is not in test_id.txt')
        else:
            first_place[item] = where
    missing = [item for item in expected if item not in first_place]
    if missing:
        shown = ', '.join(repr(m) for m in missing[:5]) + (' ...' if len(missing) > 5 else '')
        report.add_error(f'{len(missing)} id(s) of test_id.txt missing: {shown}')
    if check_order and not missing and report.ok:
        for position, ((item, where), wanted) in enumerate(zip(found, expected)):
            if item != wanted:
                report.add_error(f'{where}: id {item!r} out of order: row {position + 1} of test_id.txt is '
                                 f'{wanted!r} (rows are scored by position)')
                break


def default_images_dir(test_ids: IdsLike) -> Optional[Path]:
    """``Testing_images/testing_images`` beside ``Testing_images/test_id.txt`` (the LIP layout), if it exists."""
    if not isinstance(test_ids, (str, os.PathLike)):
        return None
    candidate = Path(test_ids).parent / 'testing_images'
    return candidate if candidate.is_dir() else None


def image_size(path: PathLike) -> Tuple[int, int]:
    """``(width, height)`` of an image as the toolkit's reader decodes it, from the file header only.

    EXIF orientations 5-8 (a quarter turn) swap the two, as :func:`lip_toolkit.core.image_io.read_image_bgr`
    applies the orientation.

    Raises:
        LipToolkitError: missing or unreadable image.
    """
    from PIL import Image, UnidentifiedImageError
    path = Path(path)
    if not path.is_file():
        raise LipToolkitError('test image not found', path)
    try:
        with Image.open(path) as handle:
            width, height = handle.size
            orientation = handle.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise LipToolkitError(f'cannot read image header ({exc})', path) from None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return int(width), int(height)


def read_image_sizes(images_dir: PathLike, ids: Sequence[str]) -> Dict[str, Tuple[int, int]]:
    """``{id: (width, height)}`` of ``<images_dir>/<id>.jpg`` for every id, reading headers only."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise LipToolkitError('test images folder not found', images_dir)
    return {item: image_size(images_dir / f'{item}.jpg') for item in ids}


def resolve_images_dir(images_dir: Optional[PathLike], test_ids: IdsLike) -> Optional[Path]:
    """``images_dir`` when given, else the LIP-layout default beside ``test_id.txt`` (or None)."""
    if images_dir is not None:
        path = Path(images_dir)
        if not path.is_dir():
            raise LipToolkitError('test images folder not found', path)
        return path
    return default_images_dir(test_ids)


@contextlib.contextmanager
def checked_atomic_write(path: PathLike, check: Callable[[BinaryIO], CheckReport]) -> Iterator[BinaryIO]:
    """Write ``path`` in binary through :func:`~lip_toolkit.core.io.atomic_write`, checking before the rename.

    The body writes into the yielded handle; afterwards ``check`` reads the same (temporary) file from the
    start. If it reports a problem, :class:`LipToolkitError` is raised and ``path`` is left as it was.
    """
    with atomic_write(path, 'w+b') as handle:
        yield handle
        handle.flush()
        handle.seek(0)
        report = check(handle)
        report.path = str(path)
        report.raise_if_failed()


@contextlib.contextmanager
def atomic_zip(path: PathLike, check: Optional[Callable[[BinaryIO], CheckReport]] = None,
               compression: int = zipfile.ZIP_STORED) -> Iterator[zipfile.ZipFile]:
    """Yield a :class:`zipfile.ZipFile` that appears at ``path`` only once complete (and checked, if ``check``).

    PNGs are already compressed, so entries are stored by default.
    """
    with checked_atomic_write(path, check or _no_check) as handle:
        with zipfile.ZipFile(handle, 'w', compression=compression) as archive:
            yield archive


def _no_check(handle: BinaryIO) -> CheckReport:
    return CheckReport(path='', kind='file')


def submission_kind(path: PathLike) -> str:
    """``'pose'`` for a CSV, ``'parsing'`` for a zip: by suffix, else by the zip signature."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == '.csv':
        return 'pose'
    if suffix == '.zip':
        return 'parsing'
    if not path.is_file():
        raise LipToolkitError('submission file not found', path)
    with open(path, 'rb') as handle:
        return 'parsing' if handle.read(4) == b'PK\x03\x04' else 'pose'


@contextlib.contextmanager
def open_binary(source: Union[PathLike, BinaryIO], what: str) -> Iterator[BinaryIO]:
    """Yield a binary handle for a path (opened and closed here) or an already open handle (left open)."""
    if hasattr(source, 'read'):
        yield source
        return
    path = Path(source)
    if not path.is_file():
        raise LipToolkitError(f'{what} not found', path)
    with open(path, 'rb') as handle:
        yield handle
