"""What reaches the screen, in one place: quiet by default, everything in the run's log file.

By default the screen shows the training's progress lines (mmengine's ``Epoch(train)``/``Epoch(val)`` lines with
losses and metrics), errors, the toolkit's own progress bars and results. The environment dump, the config dump,
the hook table, mmengine's other notices and the host libraries' Python warnings (MMSeg's ``align_corners`` and
``build_loss``, mmengine's ``FileClient`` and default-scope notices...) go only to the run's log file
(``<work_dir>/<timestamp>/<timestamp>.log``); ``--verbose`` shows them on the screen as well. ``--quiet`` also
hides the progress lines.

Nothing in the host libraries is edited: a filter is attached to mmengine's screen handlers
(:func:`screen_mmengine_logs`), :func:`route_warnings` installs a ``warnings.showwarning`` that writes host
warnings to the current run's log file, and :func:`prints_to_log` sends what host code ``print()``s during a
checkpoint load to the run's logger.
"""
import contextlib
import io
import logging
import os
import sys
import warnings

from .progress import is_quiet

_VERBOSE = [os.environ.get('LIP_TOOLKIT_VERBOSE', '') not in ('', '0')]

# mmengine's per-iteration and per-validation lines (LoggerHook / LogProcessor): the training's progress.
PROGRESS_PREFIXES = ('Epoch(train)', 'Epoch(val)', 'Epoch(test)', 'Iter(train)', 'Iter(val)', 'Iter(test)')
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def set_verbose(verbose: bool) -> None:
    _VERBOSE[0] = bool(verbose)


def is_verbose() -> bool:
    return _VERBOSE[0]


class ScreenFilter(logging.Filter):
    """Lets through, on a screen handler of mmengine: errors, progress lines (unless quiet), all with --verbose."""

    def filter(self, record: logging.LogRecord) -> bool:
        if is_verbose() or record.levelno >= logging.ERROR:
            return True
        if is_quiet():
            return False
        return str(record.msg).lstrip().startswith(PROGRESS_PREFIXES)


_SCREEN_FILTER = ScreenFilter()


def screen_mmengine_logs(logger=None) -> None:
    """Attach :class:`ScreenFilter` to the screen handlers of ``logger`` (default: every mmengine logger so far,
    creating mmengine's default one). Idempotent; call it once mmengine is imported and after a Runner's logger
    is built."""
    from mmengine.logging import MMLogger
    if logger is None:
        MMLogger.get_current_instance()  # mmengine's default instance, which print_log uses outside a run
        loggers = list(MMLogger._instance_dict.values())
    else:
        loggers = [logger]
    for each in loggers:
        for handler in each.handlers:
            if not isinstance(handler, logging.FileHandler) and _SCREEN_FILTER not in handler.filters:
                handler.addFilter(_SCREEN_FILTER)


class _PrintsToLogger(io.TextIOBase):
    """A ``sys.stdout`` stand-in that hands each printed line to a logger at INFO."""

    def __init__(self, logger):
        self.logger, self.pending = logger, ''

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split('\n')
        for line in lines:
            if line.strip():
                self.logger.info(line)
        return len(text)

    def flush(self) -> None:
        if self.pending.strip():
            self.logger.info(self.pending)
        self.pending = ''


@contextlib.contextmanager
def prints_to_log(logger):
    """Lines host code ``print()``s inside the block go to ``logger`` (the run's log file; the screen only with
    --verbose) instead of stdout: mmengine's ``Runner.load_checkpoint`` prints ``Loads checkpoint by ... backend``
    (its loader is called with ``logger=None``, which means print) on every resume and ``load_from``."""
    stream = _PrintsToLogger(logger)
    with contextlib.redirect_stdout(stream):
        try:
            yield
        finally:
            stream.flush()


def _current_log_files():
    """File handlers of the current mmengine logger (the running training's log), if mmengine is loaded."""
    module = sys.modules.get('mmengine.logging')
    if module is None or not module.MMLogger._instance_dict:
        return []
    return [h for h in module.MMLogger.get_current_instance().handlers if isinstance(h, logging.FileHandler)]


_SCREEN_SHOWWARNING = [warnings.showwarning]  # what shows a warning on the screen (set by route_warnings)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    own = os.path.abspath(str(filename)).startswith(_PACKAGE_DIR + os.sep)
    if is_verbose() or own:
        _SCREEN_SHOWWARNING[0](message, category, filename, lineno, file, line)
        return
    text = warnings.formatwarning(message, category, filename, lineno, line).rstrip()
    record = logging.LogRecord('py.warnings', logging.WARNING, str(filename), lineno, text, None, None)
    for handler in _current_log_files():
        handler.handle(record)


def route_warnings():
    """Host libraries' Python warnings go to the run's log file (screen with --verbose); the toolkit's own stay on
    the screen. Process-wide; returns the previous ``warnings.showwarning`` for the caller to put back."""
    previous = warnings.showwarning
    if previous is not _show_warning:
        _SCREEN_SHOWWARNING[0] = previous
    warnings.showwarning = _show_warning
    return previous
