"""Finding images on disk: flat pools (``cat.12.jpg``), class folders, split folders."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from convlens.data.images import SkippedFile, is_image_name
from convlens.errors import DataError, NotAnImageFolder

SPLIT_NAMES = ("train", "validation", "test")
# Accepted spellings of the split folders; the first of each is what `convlens split` writes.
SPLIT_ALIASES = {"train": ("train",), "validation": ("validation", "val", "valid"), "test": ("test",)}

_TRAILING_NUMBER = re.compile(r"^(?P<cls>.*?)[._\- ]*\d+$")
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> list[object]:
    """Sort key that orders ``cat.2`` before ``cat.10``."""
    return [int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name)]


def class_of_pool_file(path: Path) -> str:
    """Class of a pool file from its name: ``cat.12.jpg`` -> ``cat``, ``dog_3.png`` -> ``dog``."""
    stem = path.stem
    match = _TRAILING_NUMBER.match(stem)
    if match and match.group("cls"):
        return match.group("cls")
    # A name that starts with a separator ("-3.jpg") has no class word before it: the stem is the class.
    return re.split(r"[._\- ]", stem, maxsplit=1)[0] or stem


def folder_entries(folder: Path) -> list[Path]:
    """The entries of ``folder`` in natural order.

    Raises:
        DataError: the folder cannot be listed (permissions, or it vanished).
    """
    try:
        return sorted(folder.iterdir(), key=lambda p: natural_key(p.name))
    except PermissionError:
        raise DataError(
            f"cannot list folder {folder}: permission denied; make it readable (chmod u+rx)"
        ) from None
    except OSError as exc:
        raise DataError(f"cannot list folder {folder}: {exc.strerror or exc}") from None


def list_images(folder: Path) -> tuple[list[Path], list[SkippedFile]]:
    """Image files directly in ``folder`` in natural order, and the other entries skipped (with why).

    Hidden entries (``.DS_Store``, ``.ipynb_checkpoints``) are ignored without a word.
    """
    images, skipped = [], []
    for entry in folder_entries(folder):
        if entry.name.startswith("."):
            continue
        reason = _not_an_image_file(entry)
        if reason is None:
            images.append(entry)
        else:
            skipped.append(SkippedFile(str(entry), reason))
    return images, skipped


def _not_an_image_file(entry: Path) -> str | None:
    """Why ``entry`` cannot be an image file, or ``None`` when it may be one."""
    if entry.is_dir():
        return "a sub-folder, ignored (images must sit directly in their class folder)"
    if not is_image_name(entry):
        return f"unsupported file type {entry.suffix or '(none)'!r}"
    if entry.is_symlink() and not entry.exists():
        return "broken symbolic link (its target does not exist)"
    if not entry.is_file():
        return "not a regular file (a pipe, socket or device)"
    return None


def is_flat_pool(folder: Path) -> bool:
    """A folder holding image files directly (and no class sub-folders with images)."""
    return any(is_image_name(p) and p.is_file() for p in folder_entries(folder))


def scan_pool(folder: Path) -> tuple[dict[str, list[Path]], list[SkippedFile]]:
    """Files of a flat pool grouped by class (from file names), classes sorted."""
    images, skipped = list_images(folder)
    by_class: dict[str, list[Path]] = {}
    for path in images:
        by_class.setdefault(class_of_pool_file(path), []).append(path)
    return dict(sorted(by_class.items())), skipped


def scan_class_folders(
    root: Path, require_images: bool = True
) -> tuple[dict[str, list[Path]], list[SkippedFile]]:
    """Files of ``root/<class>/<image>`` grouped by class, classes in sorted order.

    Raises:
        NotAnImageFolder: ``root`` has no class sub-folders, or a class folder has no image.
    """
    if not root.is_dir():
        raise NotAnImageFolder(f"{root} is not a folder; expected {root}/<class>/<image>")
    class_dirs = sorted(
        (p for p in folder_entries(root) if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name
    )
    if not class_dirs:
        raise NotAnImageFolder(f"{root} has no class sub-folders; expected {root}/<class>/<image>")
    by_class, skipped = {}, []
    for class_dir in class_dirs:
        images, bad = list_images(class_dir)
        skipped += bad
        if not images and require_images:
            raise NotAnImageFolder(
                f"class folder {class_dir} holds no image; add images or remove the empty folder"
            )
        by_class[class_dir.name] = images
    return by_class, skipped


def find_split_dirs(root: Path) -> dict[str, Path]:
    """``{"train": ..., "validation": ..., "test": ...}`` for the split folders present in ``root``.

    Raises:
        DataError: two spellings of one split are both present (``validation/`` and ``val/``).
    """
    found = {}
    for split, aliases in SPLIT_ALIASES.items():
        present = [root / alias for alias in aliases if (root / alias).is_dir()]
        if len(present) > 1:
            names = " and ".join(f"{p.name}/" for p in present)
            raise DataError(
                f"{root} has both {names}, two spellings of the {split} split; merge them into one folder"
            )
        if present:
            found[split] = present[0]
    return found


def check_split_classes(train_classes: list[str], other: dict[str, list[str]]) -> None:
    """Every class of validation/test must exist in train, so labels mean the same everywhere.

    Raises:
        DataError: a split has a class that train lacks.
    """
    for split, classes in other.items():
        extra = sorted(set(classes) - set(train_classes))
        if extra:
            raise DataError(
                f"{split} has class(es) {extra} that train lacks (train has {train_classes}); "
                f"add train/{extra[0]}/ or remove {split}/{extra[0]}/"
            )


def collect_images(paths: Sequence[str | Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Image files named directly, or found in the folders given (recursively, natural order), for predict and
    explain; files in those folders that are not images are returned as skipped, with the reason.

    Raises:
        DataError: a path does not exist, or nothing usable was found.
    """
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    for path in map(Path, paths):
        if path.is_dir():
            for folder in sorted(
                {p.parent for p in path.rglob("*")} | {path}, key=lambda p: natural_key(str(p))
            ):
                if any(part.startswith(".") for part in folder.relative_to(path).parts):
                    continue
                images, bad = list_images(folder)
                files += images
                skipped += bad
        elif path.exists():
            files.append(path)
        else:
            raise DataError(f"{path} does not exist; give image files or folders of images")
    if not files:
        names = ", ".join(map(str, paths))
        raise DataError(f"no images (.jpg, .png, ...) in {names}; give image files or folders of images")
    return files, skipped
