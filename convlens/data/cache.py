"""Decode-once image cache: decoded, resized uint8 images stored as memory-mapped ``.npy``.

A cache folder holds ``images.npy`` (rows of the good files, in order) and ``index.json``
(for every file: device, inode, mtime, size, and its row or the reason it was skipped).
A file whose identity, mtime or size changed is decoded again; the others are reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from convlens._console import track
from convlens._io import write_json_atomic
from convlens.data.images import BadImage, SkippedFile, decode

log = logging.getLogger(__name__)

CACHE_VERSION = 1
Key = tuple[int, int, int, int]


def default_cache_root() -> Path:
    """``$CONVLENS_CACHE`` or ``~/.cache/convlens``."""
    env = os.environ.get("CONVLENS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "convlens"


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


def decode_many(
    paths: Sequence[str],
    size: tuple[int, int] | None,
    channels: int,
    interp: str,
    workers: int,
    progress: bool,
) -> list[np.ndarray | SkippedFile]:
    """Decode ``paths`` with a thread pool; bad files come back as :class:`SkippedFile`."""
    if not paths:
        return []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda p: _decode_one(p, size, channels, interp), paths)
        return list(track(results, "Decoding images", total=len(paths), enabled=progress))


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
    paths = [str(p) for p in paths]
    workers = workers or default_workers()
    if cache_dir is False:
        return _assemble(
            paths, decode_many(paths, size, channels, interpolation, workers, progress), size, channels
        )
    root = default_cache_root() if cache_dir in (None, True) else Path(cache_dir)  # type: ignore[arg-type]
    folder = cache_folder(root, paths, size, channels, interpolation)
    return _load_cached(folder, paths, size, channels, interpolation, workers, progress)


def _assemble(paths, results, size, channels):
    kept = [i for i, r in enumerate(results) if isinstance(r, np.ndarray)]
    skipped = [r for r in results if isinstance(r, SkippedFile)]
    _log_skipped(skipped)
    if not kept:
        shape = (0, *(size or (0, 0)), channels)
        return np.zeros(shape, dtype=np.uint8), kept, skipped
    return np.stack([results[i] for i in kept]), kept, skipped


def _load_cached(folder: Path, paths, size, channels, interp, workers, progress):
    stored, old_images = _read_index(folder)
    keys = [file_key(p) for p in paths]
    fresh = [
        i for i, (p, k) in enumerate(zip(paths, keys)) if p not in stored or tuple(stored[p][0] or ()) != k
    ]
    if old_images is not None and not fresh and len(stored) == len(paths):
        log.debug("cache hit: %s", folder)
        return _from_index(stored, old_images, paths)
    log.debug("decoding %d of %d files into %s", len(fresh), len(paths), folder)
    decoded = dict(
        zip(fresh, decode_many([paths[i] for i in fresh], size, channels, interp, workers, progress))
    )
    results = []
    for i, path in enumerate(paths):
        if i in decoded:
            results.append(decoded[i])
        elif stored[path][1] >= 0:
            results.append(old_images[stored[path][1]])
        else:
            results.append(SkippedFile(path, stored[path][2]))
    _check_same_size(paths, results, size)
    _write_cache(folder, paths, keys, results, size, channels)
    stored, images = _read_index(folder)
    return _from_index(stored, images, paths)


def _from_index(stored, images, paths):
    kept = [i for i, p in enumerate(paths) if stored[p][1] >= 0]
    skipped = [SkippedFile(p, stored[p][2]) for p in paths if stored[p][1] < 0]
    _log_skipped(skipped)
    return images, kept, skipped


def _check_same_size(paths, results, size) -> None:
    if size is not None:
        return
    shapes = {r.shape for r in results if isinstance(r, np.ndarray)}
    if len(shapes) > 1:
        from convlens.errors import DataError

        raise DataError(f"images have different sizes {sorted(shapes)}; give a target size such as 150x150")


def _write_cache(folder: Path, paths, keys, results, size, channels) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    good = [r for r in results if isinstance(r, np.ndarray)]
    shape = (len(good), *(good[0].shape if good else (*(size or (0, 0)), channels)))
    tmp = folder / f".images.tmp-{os.getpid()}.npy"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
    entries, row = [], 0
    for path, key, result in zip(paths, keys, results):
        if isinstance(result, np.ndarray):
            out[row] = result
            entries.append([path, key, row, ""])
            row += 1
        else:
            entries.append([path, key, -1, result.reason])
    out.flush()
    del out
    os.replace(tmp, folder / "images.npy")
    write_json_atomic(
        folder / "index.json", {"version": CACHE_VERSION, "rows": row, "entries": entries}, indent=0
    )


def _log_skipped(skipped: list[SkippedFile]) -> None:
    for item in skipped:
        log.warning("skipped %s: %s", item.path, item.reason)
