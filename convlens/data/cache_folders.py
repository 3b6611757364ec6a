"""The decode-once cache's folders on disk: the root, the marked entry folders, listing and clearing.

Every entry folder convlens makes holds a :data:`MARKER` file, written before anything else.
Only marked folders are listed, counted or cleared, and clearing deletes only the files convlens
writes there: a folder a person keeps under the cache root is never touched.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from convlens._io import write_json_atomic
from convlens._paths import cache_root
from convlens.errors import ConfigError

CACHE_VERSION = 1
# Written first into every cache entry folder: only folders holding it are listed or cleared.
MARKER = ".convlens-cache-entry"
_ENTRY_FILES = frozenset({"images.npy", "index.json", MARKER})
# Temporary names of images.npy, index.json (atomic writes) and the marker, left by a crash.
_TEMP_PREFIXES = (".images.tmp-", ".index.tmp-", f".{MARKER}.tmp-")


def default_cache_root() -> Path:
    """``$CONVLENS_CACHE`` or ``~/.cache/convlens``."""
    return cache_root()


@dataclass
class CacheListing:
    """The decode-once cache under one root: the entries convlens made, and what it leaves alone."""

    location: Path
    entries: list[tuple[Path, int]] = field(default_factory=list)
    unmarked: list[Path] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Bytes the entries take (what :func:`clear_cache` would free)."""
        return sum(size for _, size in self.entries)


def cache_entries(root: Path | None = None) -> CacheListing:
    """The decode-once cache folders under ``root`` (default :func:`default_cache_root`) and their sizes.

    Only folders holding the :data:`MARKER` file count; any other folder under ``root/images``
    is listed in ``unmarked`` and never touched.

    Raises:
        ConfigError: ``root`` is (or lies under) a file.
    """
    root = Path(root) if root is not None else default_cache_root()
    check_cache_root(root)
    listing = CacheListing(root)
    base = root / "images"
    if not base.is_dir():
        return listing
    try:
        for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink()):
            if is_cache_entry(folder):
                listing.entries.append((folder, sum(f.lstat().st_size for f in _entry_files(folder))))
            else:
                listing.unmarked.append(folder)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the image cache {base}: {exc.strerror or exc}; fix its permissions"
        ) from None
    return listing


def clear_cache(root: Path | None = None) -> int:
    """Delete the files of every decode-once cache entry under ``root``; returns the bytes freed.

    Only the files convlens writes in a marked entry are deleted, then the folder if it is empty;
    unmarked folders and anything else a person put there stay.
    """
    freed = 0
    for folder, _ in cache_entries(root).entries:
        files = _entry_files(folder)
        for path in sorted(files, key=lambda f: f.name == MARKER):  # the marker goes last
            with contextlib.suppress(FileNotFoundError):
                size = path.lstat().st_size
                path.unlink()
                freed += size
        with contextlib.suppress(OSError):
            folder.rmdir()
    return freed


def is_cache_entry(folder: Path) -> bool:
    """Whether convlens made ``folder`` (it holds the marker file)."""
    marker = folder / MARKER
    return marker.is_file() and not marker.is_symlink()


def _entry_files(folder: Path) -> list[Path]:
    """The files of a cache entry that convlens wrote (finished or left over by a crash)."""
    return [
        p
        for p in folder.iterdir()
        if (p.name in _ENTRY_FILES or p.name.startswith(_TEMP_PREFIXES)) and not p.is_dir()
    ]


def _mark(folder: Path) -> None:
    if not is_cache_entry(folder):
        write_json_atomic(folder / MARKER, {"convlens_cache": "images", "version": CACHE_VERSION})


def check_cache_root(root: Path) -> None:
    """Refuse a cache root that is a file or lies under one.

    Raises:
        ConfigError: naming the file and how to fix it.
    """
    for folder in (root, *root.parents):
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise ConfigError(
                    f"cache folder {root} cannot be used: {folder} is a file, not a folder; "
                    "point $CONVLENS_CACHE at a folder (or pass cache_dir=False)"
                )
            return


def make_entry_folder(folder: Path) -> None:
    check_cache_root(folder.parent.parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _mark(folder)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the image cache in {folder}: {exc.strerror or exc}; make it writable "
            "or point $CONVLENS_CACHE at a writable folder"
        ) from None
