"""Atomic writes and careful reading of the files LIP tools exchange.

Every output of the toolkit goes through :func:`atomic_write` or :func:`atomic_directory`, so a crash, a full
disk or Ctrl-C leaves either the old file or the complete new one, never a partial one.

One rule for outputs that already exist, for every command that writes (:func:`check_output`): a file, or a
folder that holds anything, is refused with a one-line error unless ``--overwrite``; with it the file is replaced
atomically and a folder as a whole (built aside, swapped in complete: old and new files never mix).
"""
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, List, Union

from .errors import LipToolkitError

PathLike = Union[str, os.PathLike]


def check_output(path: PathLike, overwrite: bool = False) -> None:
    """The rule for an output that exists already: refused unless ``overwrite`` (an empty folder is free).

    Call it before any work, so that nothing is computed (or loaded) for an output that will be refused.
    """
    path = Path(path)
    if overwrite or not path.exists():
        return
    if path.is_dir():
        if any(path.iterdir()):
            raise LipToolkitError('output folder is not empty (add --overwrite to replace it)', path)
        return
    raise LipToolkitError('output exists (add --overwrite to replace it)', path)


def _check_parent_writable(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LipToolkitError(f'cannot create output folder: {exc.strerror}', parent) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LipToolkitError('output folder is not writable', parent)


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = 'w', **open_kwargs) -> Iterator:
    """Open a temporary file beside ``path``; on success fsync and rename it over ``path``.

    Text modes write UTF-8 unless ``encoding`` is given.

    Example:
        >>> with atomic_write('/tmp/example.csv') as f:
        ...     _ = f.write('a,b\\n')
    """
    path = Path(path)
    if 'b' not in mode:
        # Text is UTF-8 whatever the locale says: ids such as 'photo é 1' must survive an ASCII locale.
        open_kwargs.setdefault('encoding', 'utf-8')
    _check_parent_writable(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.partial', dir=path.parent)
    try:
        # mkstemp makes the file private (0600); outputs get the usual permissions, as open() would give.
        os.chmod(tmp_name, 0o666 & ~_umask())
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        _remove_quietly(tmp_name)
        raise LipToolkitError(f'could not write: {exc.strerror or exc}', path) from None
    except BaseException:
        _remove_quietly(tmp_name)
        raise


@contextlib.contextmanager
def atomic_directory(path: PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` as a whole."""
    path = Path(path)
    _check_parent_writable(path)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f'.{path.name}.', suffix='.partial', dir=path.parent))
    try:
        os.chmod(tmp_dir, 0o777 & ~_umask())
        yield tmp_dir
        old = None
        if path.exists():
            old = path.with_name(f'.{path.name}.old-{os.getpid()}')
            os.replace(path, old)
        os.replace(tmp_dir, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise LipToolkitError(f'could not write: {exc.strerror or exc}', path) from None
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise


@contextlib.contextmanager
def replacing_directory(path: PathLike) -> Iterator[Path]:
    """Write ``path`` in place while its old contents wait aside: deleted on success, put back on failure.

    For a folder whose files name their own paths (the demo's configs, work dirs and report point into it), so
    it cannot be built under another name like :func:`atomic_directory`; old and new files still never mix.
    """
    path = Path(path)
    old = None
    if path.is_dir() and any(path.iterdir()):
        old = path.with_name(f'.{path.name}.old-{os.getpid()}')
        try:
            os.replace(path, old)
        except OSError as exc:
            raise LipToolkitError(f'cannot move the old output aside: {exc.strerror or exc}', path) from None
    try:
        yield path
    except BaseException:
        if old is not None:
            shutil.rmtree(path, ignore_errors=True)
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)


def read_id_list(path: PathLike) -> List[str]:
    """Read a LIP id list (``train_id.txt`` ...): one id per line, blank lines ignored, no duplicates."""
    path = Path(path)
    if not path.is_file():
        raise LipToolkitError('id list not found', path)
    ids, seen = [], {}
    with open(path, encoding='utf-8', errors='replace') as handle:
        for line_no, line in enumerate(handle, 1):
            item = line.strip()
            if not item:
                continue
            if item.endswith('.jpg') or item.endswith('.png'):
                item = item[:-4]
            if item in seen:
                raise LipToolkitError(f'id {item!r} repeats line {seen[item]}', path, f'line {line_no}')
            seen[item] = line_no
            ids.append(item)
    if not ids:
        raise LipToolkitError('id list is empty', path)
    return ids
