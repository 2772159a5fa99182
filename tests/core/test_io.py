"""Atomic outputs: a crash, a full disk or an unwritable folder leaves the old file or nothing, never a part."""
import errno
import os

import pytest

from lip_toolkit.core import io as lip_io
from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.io import atomic_directory, atomic_write, read_id_list


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if '.partial' in p.name or '.old-' in p.name)


def test_atomic_write_replaces_the_file(tmp_path):
    target = tmp_path / 'out.csv'
    target.write_text('old')
    with atomic_write(target) as handle:
        handle.write('new')
        assert target.read_text() == 'old'  # the old file stays until the new one is complete
    assert target.read_text() == 'new'
    assert _leftovers(tmp_path) == []


def test_crash_while_writing_keeps_the_old_file(tmp_path):
    target = tmp_path / 'out.csv'
    target.write_text('old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target) as handle:
            handle.write('half')
            raise KeyboardInterrupt
    assert target.read_text() == 'old'
    assert _leftovers(tmp_path) == []


def test_full_disk_is_a_one_line_error_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / 'new.csv'

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(lip_io.os, 'fsync', full_disk)
    with pytest.raises(LipToolkitError) as info:
        with atomic_write(target) as handle:
            handle.write('x' * 1000)
    assert 'No space left on device' in str(info.value) and str(target) in str(info.value)
    assert not target.exists() and _leftovers(tmp_path) == []


def test_unwritable_output_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(lip_io.os, 'access', lambda path, mode: False)
    with pytest.raises(LipToolkitError, match='not writable'):
        with atomic_write(tmp_path / 'x.csv') as handle:
            handle.write('x')


def test_output_folder_under_a_file(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(LipToolkitError, match='cannot create output folder'):
        with atomic_write(blocker / 'sub' / 'x.csv') as handle:
            handle.write('x')


def test_atomic_directory_swaps_whole_folders(tmp_path):
    target = tmp_path / 'pngs'
    target.mkdir()
    (target / 'old.png').write_text('old')
    with atomic_directory(target) as staging:
        (staging / 'a.png').write_text('a')
        assert (target / 'old.png').exists()
    assert sorted(p.name for p in target.iterdir()) == ['a.png']
    assert _leftovers(tmp_path) == []


def test_atomic_directory_failure_keeps_the_old_folder(tmp_path):
    target = tmp_path / 'pngs'
    target.mkdir()
    (target / 'old.png').write_text('old')
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as staging:
            (staging / 'a.png').write_text('a')
            raise RuntimeError('crash')
    assert sorted(p.name for p in target.iterdir()) == ['old.png']
    assert _leftovers(tmp_path) == []


def test_read_id_list(tmp_path):
    ids = tmp_path / 'ids.txt'
    ids.write_text('1_2\n\n3_4.jpg\n')
    assert read_id_list(ids) == ['1_2', '3_4']
    ids.write_text('1_2\n1_2\n')
    with pytest.raises(LipToolkitError, match=r'line 2.*repeats line 1'):
        read_id_list(ids)
    ids.write_text('\n')
    with pytest.raises(LipToolkitError, match='empty'):
        read_id_list(ids)
    with pytest.raises(LipToolkitError, match='not found'):
        read_id_list(tmp_path / 'missing.txt')


def test_real_id_lists_read(real_lip_dir):
    assert len(read_id_list(real_lip_dir / 'val_id.txt')) == 10000
    assert len(read_id_list(real_lip_dir / 'train_id.txt')) == 30462


def test_outputs_get_the_usual_permissions(tmp_path):
    """Not mkstemp's private 0600: a submission or report is as readable as a file open() would create."""
    expected = 0o666 & ~lip_io._umask()
    with atomic_write(tmp_path / 'a.csv') as handle:
        handle.write('x')
    assert (tmp_path / 'a.csv').stat().st_mode & 0o777 == expected
    with atomic_directory(tmp_path / 'pngs') as staging:
        (staging / 'x.png').write_text('x')
    assert (tmp_path / 'pngs').stat().st_mode & 0o777 == 0o777 & ~lip_io._umask()
