"""What reaches the screen: mmengine's progress lines and errors; notices and host warnings go to the log file."""
import uuid
import warnings

import pytest

from lip_toolkit.core.logs import route_warnings, screen_mmengine_logs, set_verbose
from lip_toolkit.core.progress import set_quiet


def _run_logger(tmp_path):
    """A run's mmengine logger (screen + log file), made the current one. Made inside the test: pytest's capture
    fixtures replace sys.stdout only for the test's call, and the handler keeps the stream of its creation."""
    from mmengine.logging import MMLogger
    log_file = tmp_path / 'run.log'
    logger = MMLogger.get_instance(f'test-{uuid.uuid4().hex}', log_file=str(log_file))
    screen_mmengine_logs(logger)
    return logger, log_file


@pytest.fixture(autouse=True)
def _not_verbose():
    yield
    set_verbose(False)


def test_screen_gets_progress_and_errors_the_log_file_everything(tmp_path, capsys):
    logger, log_file = _run_logger(tmp_path)
    logger.info('Config:\nmodel = dict()')
    logger.warning('"FileClient" will be deprecated in future.')
    logger.info('Epoch(train)  [1][10/13]  lr: 1e-3  loss: 0.5')
    logger.error('something broke')
    screen = capsys.readouterr().out
    assert 'Epoch(train)' in screen and 'something broke' in screen
    assert 'Config:' not in screen and 'FileClient' not in screen
    written = log_file.read_text()
    assert all(text in written for text in ('Config:', 'FileClient', 'Epoch(train)', 'something broke'))
    set_quiet(True)
    logger.info('Epoch(train)  [1][11/13]  loss: 0.4')
    set_quiet(False)
    set_verbose(True)
    logger.info('System environment: ...')
    screen = capsys.readouterr().out
    assert '[1][11/13]' not in screen and 'System environment' in screen


def test_host_warnings_go_to_the_run_log_and_ours_to_the_screen(tmp_path, capsys):
    _, log_file = _run_logger(tmp_path)
    import lip_toolkit
    own_file = lip_toolkit.__file__
    screen = []  # stands for Python's own showwarning, which writes to stderr
    original = warnings.showwarning
    warnings.showwarning = lambda message, *args, **kwargs: screen.append(str(message))
    route_warnings()
    try:
        warnings.simplefilter('always')
        warnings.warn_explicit('``build_loss`` would be deprecated soon', UserWarning,
                               '/venv/site-packages/mmseg/models/builder.py', 36)
        warnings.warn_explicit('our own notice', UserWarning, own_file, 1)
        set_verbose(True)
        warnings.warn_explicit('align_corners=True, the output would more aligned', UserWarning,
                               '/venv/site-packages/mmseg/models/utils/wrappers.py', 22)
    finally:
        warnings.showwarning = original
    assert screen == ['our own notice', 'align_corners=True, the output would more aligned']
    assert 'build_loss' in log_file.read_text()
