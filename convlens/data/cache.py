"""Decode-once image cache: decoded, resized uint8 images stored as memory-mapped ``.npy``.

A cache folder holds ``images.npy`` (rows of the good files, in order) and ``index.json``
(for every file: device, inode, mtime, size, and its row or the reason it was skipped).
A file whose identity, mtime or size changed is decoded again; the others are reused.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from convlens._io import write_json_atomic
from convlens._reporting import track
from convlens.data.cache_folders import (  # noqa: F401 - cache_entries, clear_cache: the CLI's door
    CACHE_VERSION,
    cache_entries,
    check_cache_root,
    clear_cache,
    default_cache_root,
    make_entry_folder,
)
from convlens.data.images import BadImage, SkippedFile, check_target_size, decode
from convlens.data.room import check_room
from convlens.errors import ConfigError

log = logging.getLogger(__name__)

Key = tuple[int, int, int, int]


def default_workers() -> int:
    """Decoding threads: the CPUs this process may use (PIL releases the GIL while decoding)."""
    return max(
        1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    )


def file_key(path: str) -> Key | None:
    """``(device, inode, mtime_ns, size)`` of ``path``, or ``None`` when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def cache_folder(
    root: Path, paths: Sequence[str], size: tuple[int, int] | None, channels: int, interp: str
) -> Path:
    """The cache folder of one file list at one target size (stable across runs)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([CACHE_VERSION, size, channels, interp]).encode())
    for path in paths:
        digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
    tag = f"{size[0]}x{size[1]}" if size else "native"
    return root / "images" / f"{tag}-c{channels}-{digest.hexdigest()[:20]}"


def _decode_one(path: str, size, channels, interp) -> np.ndarray | SkippedFile:
    try:
        return decode(path, size, channels, interp)
    except BadImage as exc:
        return SkippedFile(path, exc.reason)


def _read_index(folder: Path) -> tuple[dict[str, list], np.ndarray | None]:
    try:
        index = json.loads((folder / "index.json").read_text())
        images = np.load(folder / "images.npy", mmap_mode="r")
    except (OSError, ValueError):
        return {}, None
    if index.get("version") != CACHE_VERSION or index.get("rows") != len(images):
        return {}, None
    return {entry[0]: entry[1:] for entry in index["entries"]}, images


def load_images(
    paths: Sequence[str],
    size: tuple[int, int] | None,
    channels: int = 3,
    interpolation: str = "bilinear",
    cache_dir: str | os.PathLike[str] | None | bool = None,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, list[int], list[SkippedFile]]:
    """Decode ``paths`` once and return ``(images, kept, skipped)``.

    Args:
        paths: image files, in dataset order.
        size: ``(H, W)`` target size, or ``None`` to keep the native size (all must agree).
        channels: 3 for RGB, 1 for L.
        interpolation: ``nearest``, ``bilinear``, ``bicubic`` or ``lanczos``.
        cache_dir: cache root; ``None`` uses :func:`default_cache_root`, ``False`` disables caching.
        workers: decoding threads (default: the usable CPUs).
        progress: show a progress bar while decoding.

    Returns:
        ``images`` uint8 ``(len(kept), H, W, C)`` (a read-only memory map when cached),
        ``kept`` the indices into ``paths`` of the rows, ``skipped`` the files left out and why.
    """
    check_target_size(size)
    job = _Job([str(p) for p in paths], size, channels, interpolation, workers or default_workers(), progress)
    if cache_dir is False:
        return job.run(folder=None, stored={}, old=None)
    root = default_cache_root() if cache_dir in (None, True) else Path(cache_dir)  # type: ignore[arg-type]
    check_cache_root(root)
    folder = cache_folder(root, job.paths, size, channels, interpolation)
    stored, old = _read_index(folder)
    if old is not None:
        make_entry_folder(folder)  # an entry of an older convlens gets its marker
    keys = [file_key(p) for p in job.paths]
    if (
        old is not None
        and len(stored) == len(keys)
        and all(_hit(stored, p, k) for p, k in zip(job.paths, keys))
    ):
        log.debug("cache hit: %s", folder)
        return _from_index(stored, old, job.paths)
    return job.run(folder, stored, old, keys)


def _hit(stored: dict[str, list], path: str, key: Key | None) -> bool:
    return key is not None and path in stored and tuple(stored[path][0] or ()) == key


class _Job:
    """Decode the missing rows straight into the output array (a memory map when caching)."""

    def __init__(self, paths, size, channels, interp, workers, progress) -> None:
        self.paths, self.size, self.channels, self.interp = paths, size, channels, interp
        self.workers, self.progress = workers, progress

    def run(self, folder: Path | None, stored: dict, old: np.ndarray | None, keys=None):
        keys = keys or [None] * len(self.paths)
        reuse = {i: stored[p][1] for i, (p, k) in enumerate(zip(self.paths, keys)) if _hit(stored, p, k)}
        reasons = {i: stored[self.paths[i]][2] for i, row in reuse.items() if row < 0}
        fresh = [i for i in range(len(self.paths)) if i not in reuse]
        log.debug("decoding %d of %d files (cache %s)", len(fresh), len(self.paths), folder)
        shape = self._row_shape(old, fresh)
        full = (len(self.paths), *shape)
        tmp = folder / f".images.tmp-{os.getpid()}.npy" if folder else None
        if folder:
            make_entry_folder(folder)
            check_room(full, folder)
            out = _open_output(tmp, full)
        else:
            check_room(full, None)
            out = np.empty(full, dtype=np.uint8)
        for i, row in reuse.items():
            if row >= 0:
                out[i] = old[row]
        reasons.update(self._decode_into(out, fresh, shape))
        return self._finish(out, tmp, folder, keys, reasons)

    def _row_shape(self, old: np.ndarray | None, fresh: list[int]) -> tuple[int, int, int]:
        if self.size is not None:
            return (*self.size, self.channels)
        if old is not None and len(old):
            return tuple(old.shape[1:])
        for i in fresh:  # native size: the first readable image decides
            result = _decode_one(self.paths[i], None, self.channels, self.interp)
            if isinstance(result, np.ndarray):
                return result.shape
        return (0, 0, self.channels)

    def _decode_into(self, out: np.ndarray, fresh: list[int], shape) -> dict[int, str]:
        def work(i: int) -> str | None:
            result = _decode_one(self.paths[i], self.size, self.channels, self.interp)
            if isinstance(result, SkippedFile):
                return result.reason
            if result.shape != shape:
                return f"size {result.shape[1]}x{result.shape[0]} differs from {shape[1]}x{shape[0]}; give a target size"
            out[i] = result
            return None

        if not fresh:
            return {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            done = track(pool.map(work, fresh), "Decoding images", total=len(fresh), enabled=self.progress)
            return {i: reason for i, reason in zip(fresh, done) if reason is not None}

    def _finish(self, out: np.ndarray, tmp: Path | None, folder: Path | None, keys, reasons: dict[int, str]):
        kept = [i for i in range(len(self.paths)) if i not in reasons]
        skipped = [SkippedFile(self.paths[i], reasons[i]) for i in sorted(reasons)]
        _log_skipped(skipped)
        if reasons:
            compact = out[kept] if folder is None else _compact(out, tmp, kept)
        else:
            compact = out
        if folder is None:
            return compact, kept, skipped
        compact.flush()
        del out, compact
        os.replace(tmp, folder / "images.npy")
        rows = dict(zip(kept, range(len(kept))))
        entries = [[p, keys[i], rows.get(i, -1), reasons.get(i, "")] for i, p in enumerate(self.paths)]
        index = {"version": CACHE_VERSION, "rows": len(kept), "entries": entries}
        write_json_atomic(folder / "index.json", index, indent=0)
        stored, images = _read_index(folder)
        return _from_index(stored, images, self.paths)


def _open_output(tmp: Path, shape: tuple[int, ...]) -> np.ndarray:
    """The memory-mapped output file, its blocks reserved up front (a full disk then fails here, not
    with a bus error in the middle of decoding)."""
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        if hasattr(os, "posix_fallocate") and out.size:
            fd = os.open(tmp, os.O_RDWR)
            try:
                os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    raise
            finally:
                os.close(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(
            f"cannot write the image cache {tmp.parent}: {exc.strerror or exc}; free some space, "
            "choose a smaller --image-size, or point $CONVLENS_CACHE at a bigger disk"
        ) from None
    return out


def _compact(out: np.ndarray, tmp: Path, kept: list[int]) -> np.ndarray:
    """Drop the rows of skipped files (rare), into a second temporary file that replaces ``tmp``."""
    tmp2 = tmp.with_name(tmp.stem + "-compact.npy")
    compact = np.lib.format.open_memmap(tmp2, mode="w+", dtype=np.uint8, shape=(len(kept), *out.shape[1:]))
    for start in range(0, len(kept), 1024):
        compact[start : start + 1024] = out[kept[start : start + 1024]]
    compact.flush()
    os.replace(tmp2, tmp)
    return compact


def _from_index(stored, images, paths):
    kept = [i for i, p in enumerate(paths) if stored[p][1] >= 0]
    skipped = [SkippedFile(p, stored[p][2]) for p in paths if stored[p][1] < 0]
    _log_skipped(skipped)
    return images, kept, skipped


def _log_skipped(skipped: list[SkippedFile]) -> None:
    for item in skipped:
        log.warning("skipped %s: %s", item.path, item.reason)
