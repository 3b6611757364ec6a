"""Where a split's photos come from: a built-in pool or a folder, scanned into files per class, less the files a
split must not copy (links leading out of the source, unreadable files)."""

from __future__ import annotations

import os
from pathlib import Path

from convlens.data.builtin import builtin_pool
from convlens.data.folders import (
    SPLIT_ALIASES,
    is_flat_pool,
    list_images,
    scan_class_folders,
    scan_pool,
)
from convlens.data.images import SkippedFile
from convlens.errors import NotAnImageFolder, SplitError


def resolve_source(src: str | os.PathLike[str]) -> Path:
    """A built-in pool name (``pets-mini``) or a folder path."""
    builtin = builtin_pool(str(src))
    path = builtin if builtin is not None else Path(src).expanduser()
    if not path.is_dir():
        raise SplitError(f"source {src} is not a folder (nor a built-in pool such as pets-mini)")
    return path.resolve()


def scan_source(src: Path) -> tuple[dict[str, list[Path]], list[SkippedFile]]:
    """Files per class of a flat pool (class from the file name) or of class sub-folders.

    Raises:
        SplitError: ``src`` holds neither image files nor class sub-folders, or is split already.
    """
    if is_flat_pool(src):
        return scan_pool(src)
    done = [f"{name}/" for names in SPLIT_ALIASES.values() for name in names if (src / name).is_dir()]
    if done:
        raise SplitError(
            f"{src} has {' '.join(done)}: it looks already split; give the raw pool or the class-folder "
            "root it came from (a split folder is read as it is by train and data info)"
        )
    try:
        return scan_class_folders(src, require_images=False)
    except NotAnImageFolder:
        _, other = list_images(src)
        found = f" (only {len(other)} other file(s), e.g. {Path(other[0].path).name!r})" if other else ""
        raise SplitError(
            f"{src} holds no image files{found}; expected <class>.<n>.jpg files or <class>/ sub-folders"
        ) from None


def usable_sources(
    src: Path, by_class: dict[str, list[Path]], follow_symlinks: bool
) -> tuple[dict[str, list[Path]], list[SkippedFile]]:
    """Leave out what a split must not copy: links out of ``src`` (unless followed) and unreadable files."""
    kept: dict[str, list[Path]] = {}
    skipped = []
    for cls, paths in by_class.items():
        kept[cls] = []
        for path in paths:
            reason = _unusable(src, path, follow_symlinks)
            if reason:
                skipped.append(SkippedFile(str(path), reason))
            else:
                kept[cls].append(path)
    return kept, skipped


def _unusable(src: Path, path: Path, follow_symlinks: bool) -> str | None:
    real = path.resolve()
    if not follow_symlinks and src not in real.parents:
        return f"leads to {real} (through a symbolic link), outside SRC; pass --follow-symlinks to include it"
    if not os.access(path, os.R_OK):
        return "permission denied (make the file readable)"
    return None


def empty_class_message(src: Path, cls: str, found: list[Path], left_out: list[SkippedFile]) -> str:
    if not found:
        return f"class folder {src / cls} is empty or holds no image file; add images or remove it"
    reasons = [s.reason for s in left_out if Path(s.path) in found]
    return f"class {cls!r} has no usable image: all {len(found)} were left out ({reasons[0]})"
