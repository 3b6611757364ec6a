"""``dataset_info``: what a folder of images holds, per split and class, and which files are bad."""

from __future__ import annotations

import os
import statistics
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

from convlens.data.builtin import builtin_pool
from convlens.data.cache import default_workers
from convlens.data.folders import find_split_dirs, is_flat_pool, scan_class_folders, scan_pool
from convlens.data.images import BadImage, SkippedFile, open_image
from convlens.errors import NotAnImageFolder

# Smaller than this (either side) is listed as suspicious: too small to say much at 150x150.
MIN_SIDE = 32
_EXT_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".gif": "GIF", ".webp": "WEBP"}


@dataclass
class ClassInfo:
    """Counts and sizes of one class in one split."""

    count: int = 0
    min_size: tuple[int, int] | None = None
    median_size: tuple[int, int] | None = None
    max_size: tuple[int, int] | None = None
    modes: dict[str, int] = field(default_factory=dict)


@dataclass
class DatasetInfo:
    """Per split and class statistics, with the unreadable and suspicious files."""

    root: str
    splits: dict[str, dict[str, ClassInfo]]
    unreadable: list[SkippedFile]
    suspicious: list[SkippedFile]

    def to_json(self) -> dict:
        """Plain data for ``--json``."""
        return asdict(self)


def _probe(path: Path) -> tuple[Path, tuple[int, int], str, str | None] | SkippedFile:
    """Fully decode ``path`` (at reduced JPEG scale) to find truncation; returns size, mode, oddity."""
    try:
        im = open_image(path)
        with Image.open(path) as raw:
            size, mode, fmt = raw.size, raw.mode, raw.format
    except BadImage as exc:
        return SkippedFile(str(path), exc.reason)
    except OSError as exc:
        return SkippedFile(str(path), f"cannot read ({exc})")
    oddity = None
    expected = _EXT_FORMATS.get(path.suffix.lower())
    if expected and fmt != expected:
        oddity = f"extension {path.suffix} but the content is {fmt}"
    elif min(im.size) < MIN_SIDE:
        oddity = f"very small image {im.size[0]}x{im.size[1]}"
    return path, size, mode, oddity


def _summarise(sizes: list[tuple[int, int]], modes: list[str]) -> ClassInfo:
    if not sizes:
        return ClassInfo()
    by_area = sorted(sizes, key=lambda s: (s[0] * s[1], s))
    median = (int(statistics.median(s[0] for s in sizes)), int(statistics.median(s[1] for s in sizes)))
    return ClassInfo(len(sizes), by_area[0], median, by_area[-1], dict(Counter(modes)))


def _layout(root: Path) -> dict[str, tuple[dict[str, list[Path]], list[SkippedFile]]]:
    split_dirs = find_split_dirs(root)
    if split_dirs:
        return {split: scan_class_folders(path, require_images=False) for split, path in split_dirs.items()}
    if is_flat_pool(root):
        return {"pool": scan_pool(root)}
    return {"all": scan_class_folders(root, require_images=False)}


def dataset_info(root: str | os.PathLike[str], workers: int | None = None) -> DatasetInfo:
    """Inspect ``root`` (split folders, class folders, a flat pool or a built-in pool name).

    Raises:
        NotAnImageFolder: ``root`` is not a folder of images.
    """
    folder = builtin_pool(str(root)) or Path(root).expanduser()
    if not folder.is_dir():
        raise NotAnImageFolder(
            f"{root} is not a folder; expected <root>/[train/]<class>/<image> or a flat pool"
        )
    splits, unreadable, suspicious = {}, [], []
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        for split, (by_class, skipped) in _layout(folder).items():
            suspicious += skipped
            splits[split] = {}
            for cls, paths in by_class.items():
                sizes, modes = [], []
                for result in pool.map(_probe, paths):
                    if isinstance(result, SkippedFile):
                        unreadable.append(result)
                        continue
                    path, size, mode, oddity = result
                    sizes.append(size)
                    modes.append(mode)
                    if oddity:
                        suspicious.append(SkippedFile(str(path), oddity))
                splits[split][cls] = _summarise(sizes, modes)
    return DatasetInfo(str(folder), splits, unreadable, suspicious)
