"""The photos of a data folder by split and class, addressed by position (never by a path a client sends)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from convlens.errors import DataError, NotAnImageFolder


@dataclass
class DataLayout:
    """``files[split][class]``: the image files in natural order; ``skipped``: files that are not images."""

    root: Path
    files: dict[str, dict[str, list[Path]]]
    skipped: list = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        return {split: {cls: len(paths) for cls, paths in by_class.items()} for split, by_class in self.files.items()}

    def photo(self, split: str, cls: str, index: int) -> Path:
        """The ``index``-th photo of ``split``/``cls``.

        Raises:
            DataError: no such split, class or index.
        """
        paths = self.files.get(split, {}).get(cls)
        if paths is None or not 0 <= index < len(paths):
            raise DataError(f"no photo {index} of class {cls!r} in split {split!r} of {self.root}")
        return paths[index]


def data_layout(folder: str | os.PathLike[str]) -> DataLayout:
    """List a data folder (split folders, class folders, a flat pool, or a built-in pool such as ``pets-mini``)
    as ``convlens data info`` reads it, without decoding anything.

    Raises:
        NotAnImageFolder: ``folder`` is not a folder of images.
    """
    from convlens.data.builtin import builtin_pool
    from convlens.data.info import _layout  # the one reading of a folder's layout, shared with `data info`

    root = builtin_pool(str(folder)) or Path(folder).expanduser()
    if not root.is_dir():
        raise NotAnImageFolder(f"{folder} is not a folder; expected <root>/[train/]<class>/<image> or a flat pool")
    files, skipped = {}, []
    for split, (by_class, bad) in _layout(root).items():
        files[split] = by_class
        skipped += bad
    if not any(files.values()):
        raise DataError(f"{root} holds no images")
    return DataLayout(root, files, skipped)
