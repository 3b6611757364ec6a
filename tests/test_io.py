"""Atomic writes: all or nothing, and the file mode a plain write would give."""

import os
import stat

import pytest

from convlens._io import atomic_path, write_text_atomic


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.json") == 0o644
    assert (tmp_path / "a.json").read_text() == "{}"


def test_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "b.txt"
    target.write_text("old")
    target.chmod(0o600)
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert _mode(target) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "c.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


def test_modes_come_from_the_kernel_without_calling_umask(tmp_path, monkeypatch):
    old = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("os.umask changes process-wide state"))
        write_text_atomic(tmp_path / "d.txt", "x")
        with atomic_path(tmp_path / "e.bin") as tmp:  # a writer that recreates the temporary file
            tmp.unlink()
            tmp.write_bytes(b"e")
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert _mode(tmp_path / "d.txt") == 0o640 and _mode(tmp_path / "e.bin") == 0o640


def test_replacing_a_setuid_file_drops_the_special_bits(tmp_path):
    target = tmp_path / "f.sh"
    target.write_text("old")
    target.chmod(0o4755)
    write_text_atomic(target, "new")
    assert _mode(target) == 0o755


def test_a_folder_or_a_path_under_a_file_is_a_config_error(tmp_path):
    from convlens.errors import ConfigError

    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("keep")
    with pytest.raises(ConfigError, match="is a folder; give the name of a file"):
        write_text_atomic(tmp_path / "dir", "x")
    with pytest.raises(ConfigError, match="file is a file, not a folder"):
        write_text_atomic(tmp_path / "file" / "sub" / "x.txt", "x")
    assert (tmp_path / "file").read_text() == "keep" and list((tmp_path / "dir").iterdir()) == []


def test_a_255_byte_file_name_can_be_written(tmp_path):
    target = tmp_path / ("n" * 251 + ".png")
    write_text_atomic(target, "x")
    assert target.read_text() == "x" and len(list(tmp_path.iterdir())) == 1
