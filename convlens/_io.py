"""Atomic file writes: a temporary file in the same folder, then a rename.

New files get the mode a plain ``open(path, "w")`` would give (0o666 less the umask): the
temporary file is created by ``os.open`` with mode 0o666 so the kernel applies the umask.
``os.umask`` is never called; it changes process-wide state under other threads' feet.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from convlens.errors import ConfigError

PLAIN_FILE_MODE = 0o666
_NEW_FILE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)


def create_new_file(folder: str | os.PathLike[str], prefix: str, suffix: str = "") -> tuple[int, Path]:
    """Create a fresh, uniquely named file in ``folder``; returns ``(fd, path)`` opened for writing.

    Like :func:`tempfile.mkstemp`, but the mode is 0o666 less the umask (mkstemp's is 0o600),
    so the file can become a user's output as it is.
    """
    for _ in range(100):
        path = Path(folder) / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(path, _NEW_FILE_FLAGS, PLAIN_FILE_MODE)
        except FileExistsError:
            continue
        return fd, path
    raise FileExistsError(f"no free temporary file name in {folder}")


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    A crash at any moment leaves either the old file or the new one, never half a file. An
    existing ``path`` keeps its mode; a new one gets 0o666 less the umask.

    Raises:
        ConfigError: ``path`` is a folder, lies under a file, or cannot be written there.
    """
    target = Path(path)
    tmp_path = _temporary_beside(target)
    try:
        yield tmp_path
        _keep_mode(target, tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            os.replace(tmp_path, target)
        except OSError as exc:
            raise _cannot_write(target, exc) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _temporary_beside(target: Path) -> Path:
    """An empty temporary file in ``target``'s folder (made if missing).

    Raises:
        ConfigError: ``target`` is a folder, lies under a file, or its folder is not writable.
    """
    if target.is_dir():
        raise ConfigError(
            f"{target} is a folder; give the name of a file to write (e.g. {target / 'out.png'})"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Names are cut so that a 255-byte file name still has a temporary name.
        fd, tmp = create_new_file(target.parent, f".{target.stem[:40]}.tmp-", target.suffix[:16])
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    os.close(fd)
    return tmp


def _cannot_write(target: Path, exc: OSError) -> ConfigError:
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return ConfigError(f"cannot write {target}: {blocker} is a file, not a folder; choose another path")
    return ConfigError(f"cannot write {target}: {exc.strerror or exc}; choose a writable path")


def _keep_mode(target: Path, tmp: Path) -> None:
    """Give ``tmp`` the mode of the file it replaces; a new file keeps its 0o666-less-umask mode."""
    try:
        os.chmod(tmp, target.stat().st_mode & 0o777)
    except FileNotFoundError:
        pass


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], obj: Any, indent: int = 2) -> None:
    write_text_atomic(path, json.dumps(obj, indent=indent, sort_keys=False) + "\n")


def write_with_atomic(path: str | os.PathLike[str], writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` (e.g. ``fig.savefig``) and move the result into place."""
    with atomic_path(path) as tmp:
        writer(tmp)
