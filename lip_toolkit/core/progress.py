"""Progress bars for every long loop, silenced by ``--quiet`` or ``LIP_TOOLKIT_QUIET=1``."""
import os
import sys

_QUIET = [os.environ.get('LIP_TOOLKIT_QUIET', '') not in ('', '0')]


def set_quiet(quiet: bool) -> None:
    _QUIET[0] = bool(quiet)


def is_quiet() -> bool:
    return _QUIET[0]


def progress(iterable=None, total=None, desc=None, unit='it'):
    """Wrap ``iterable`` in a tqdm bar on stderr, or return it untouched when quiet or not a terminal."""
    if is_quiet():
        return iterable if iterable is not None else _NullBar()
    from tqdm import tqdm
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=None, dynamic_ncols=True)


def info(message: str) -> None:
    """Informational output (stderr), silenced by ``--quiet``."""
    if not is_quiet():
        print(message, file=sys.stderr, flush=True)


class _NullBar:
    def update(self, n=1):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
