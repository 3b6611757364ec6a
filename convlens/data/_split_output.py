"""Writing a split into DST without ever losing a file convlens did not write.

``split.json`` records every file a split placed. Replacing a split removes exactly those
files (then the folders that held them, once empty) and refuses when DST holds anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from convlens._io import create_new_file
from convlens.data.folders import SPLIT_NAMES
from convlens.errors import SplitError

MANIFEST = "split.json"
# How many offending paths a refusal names before "and N more".
SHOWN = 5
# Characters of a file name kept in its temporary name (a name may already be 255 bytes long;
# 40 characters are at most 160 bytes of UTF-8).
_KEEP = 40

Recorded = dict[str, dict[str, list[str]]]  # {split: {class folder: [file names]}}


def check_destination(dst: Path) -> None:
    """Refuse a DST that is a file or lies under one (before anything is written).

    Raises:
        SplitError: naming the file in the way.
    """
    if dst.exists() and not dst.is_dir():
        raise SplitError(f"{dst} is a file; DST must be a folder (a new or empty one)")
    for folder in dst.parents:
        if folder.exists():
            if not folder.is_dir():
                raise SplitError(
                    f"DST {dst} cannot be made: {folder} is a file, not a folder; choose another DST"
                )
            return


def destination_state(dst: Path, wanted: dict) -> tuple[str, Recorded | None]:
    """``("empty" | "same" | "different" | "foreign", files the last split recorded)``.

    ``foreign``: DST holds files but no valid ``split.json``, so nothing there is known to be ours.
    """
    check_destination(dst)
    if not dst.exists() or not _entries(dst):
        return "empty", None
    stored = read_manifest(dst)
    if stored is None:
        return "foreign", None
    same = stored == json.loads(json.dumps(wanted))
    return ("same" if same else "different"), stored["files"]


def read_manifest(dst: Path) -> dict | None:
    """DST's ``split.json`` when it is a regular file naming only plain files in split/class folders."""
    path = dst / MANIFEST
    if path.is_symlink() or not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = stored.get("files") if isinstance(stored, dict) else None
    if not isinstance(files, dict) or not set(files) <= set(SPLIT_NAMES):
        return None
    for by_class in files.values():
        if not isinstance(by_class, dict) or not all(_plain_name(c) for c in by_class):
            return None
        for names in by_class.values():
            if not isinstance(names, list) or not all(_plain_name(n) for n in names):
                return None
    return stored


def _plain_name(name: object) -> bool:
    """A single path component: no separator, not ``.``/``..`` (a tampered manifest cannot reach out)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\0" not in name
        and (os.altsep is None or os.altsep not in name)
    )


def foreign_entries(dst: Path, recorded: Recorded) -> list[Path]:
    """Everything in DST that the last split did not write (folders counted once, not descended)."""
    foreign = []
    for entry in _entries(dst):
        if entry.name == MANIFEST and entry.is_file() and not entry.is_symlink():
            continue
        if entry.name not in recorded or not _real_dir(entry):
            foreign.append(entry)
            continue
        for class_dir in _entries(entry):
            names = recorded[entry.name].get(class_dir.name)
            if names is None or not _real_dir(class_dir):
                foreign.append(class_dir)
                continue
            known = set(names)
            foreign += [f for f in _entries(class_dir) if f.name not in known or _real_dir(f)]
    return foreign


def refuse_foreign(dst: Path, foreign: list[Path]) -> None:
    """Raise a :class:`SplitError` naming a few of the files convlens did not write."""
    shown = ", ".join(str(p.relative_to(dst)) + ("/" if _real_dir(p) else "") for p in foreign[:SHOWN])
    more = f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else ""
    raise SplitError(
        f"{dst} holds files the earlier split did not write ({shown}{more}); convlens only replaces "
        "what its split.json records: move those elsewhere or choose a new DST"
    )


def remove_recorded(dst: Path, recorded: Recorded) -> int:
    """Delete the files of the last split (a link, never its target), then its emptied folders."""
    removed = 0
    for split, by_class in recorded.items():
        for cls, names in by_class.items():
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    (dst / split / cls / name).unlink()
                    removed += 1
            with contextlib.suppress(OSError):
                (dst / split / cls).rmdir()
        with contextlib.suppress(OSError):
            (dst / split).rmdir()
    with contextlib.suppress(FileNotFoundError):
        (dst / MANIFEST).unlink()
    return removed


def write_files(
    files: dict[str, dict[str, list[str]]], dst: Path, link: str, staged: bool, old: Recorded | None = None
) -> tuple[int, int]:
    """Place ``files`` (``{split: {folder: [source paths]}}``); returns ``(written, removed)``.

    ``staged``: build the splits in a hidden folder of DST, then remove the ``old`` split's files and
    move the new folders into place, so a failure half-way leaves the old split whole. Otherwise
    only the files missing from DST are placed (re-running the same split).
    """
    try:
        dst.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=".convlens-split-", dir=dst)) if staged else dst
    except OSError as exc:
        raise SplitError(
            f"cannot create DST {dst}: {exc.strerror or exc}; choose a writable folder"
        ) from None
    written = removed = 0
    try:
        for split, by_class in files.items():
            for folder_name, paths in by_class.items():
                written += _fill(root / split / folder_name, paths, link)
        if staged:
            removed = remove_recorded(dst, old) if old else 0
            for split in files:
                _move_into_place(root / split, dst / split)
    finally:
        if staged:
            shutil.rmtree(root, ignore_errors=True)
    return written, removed


def _fill(folder: Path, paths: list[str], link: str) -> int:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SplitError(f"cannot create {folder}: {exc.strerror or exc}; choose another DST") from None
    written = 0
    for path in paths:
        target = folder / Path(path).name
        if not (target.exists() or target.is_symlink()):
            place(Path(path), target, link)
            written += 1
    return written


def _move_into_place(staged: Path, target: Path) -> None:
    try:
        os.replace(staged, target)
    except OSError as exc:
        raise SplitError(
            f"cannot move the new split into {target}: {exc.strerror or exc} (was something added there "
            "meanwhile?); move it away and run the split again"
        ) from None


def place(src: Path, target: Path, link: str) -> None:
    """Copy, hard-link or symlink ``src`` to ``target`` through a temporary name.

    A copy is a plain new file: mode 0o666 less the umask (never the source's setuid bits or
    permissions), modification time kept. A hard link shares the source's inode, mode included.

    Raises:
        SplitError: the source cannot be read or the target written.
    """
    tmp = None
    try:
        if link == "copy":
            fd, tmp = create_new_file(target.parent, f".{target.name[:_KEEP]}.", ".tmp")
            _copy_plain(src, fd, tmp)
        else:
            tmp = target.with_name(f".{target.name[:_KEEP]}.{secrets.token_hex(4)}.tmp")
            (os.link if link == "hardlink" else os.symlink)(src, tmp)
        os.replace(tmp, target)
    except PermissionError:
        raise SplitError(
            f"cannot read {src} or write {target}: permission denied; fix the permissions"
        ) from None
    except OSError as exc:
        hint = (
            "; hard links need SRC and DST on one file system, use --link copy or symlink"
            if link == "hardlink"
            else ""
        )
        raise SplitError(f"cannot {link} {src} to {target}: {exc.strerror or exc}{hint}") from None
    finally:
        if tmp is not None and (tmp.exists() or tmp.is_symlink()):
            tmp.unlink()


def _copy_plain(src: Path, fd: int, tmp: Path) -> None:
    with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
        shutil.copyfileobj(inp, out, 1 << 20)
        st = os.fstat(inp.fileno())
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        raise SplitError(f"cannot list {folder}: {exc.strerror or exc}; fix its permissions") from None


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()
