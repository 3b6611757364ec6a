"""MNIST in the IDX format (``train-images-idx3-ubyte[.gz]`` ...), read without any download."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from convlens.errors import DataError

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (raw or ``.gz``) into an array of its declared shape and type.

    Raises:
        DataError: the file is not IDX or is shorter than its header says.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[data[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - offset < expected:
        raise DataError(f"{path} is truncated: header says {shape} but the file is too short")
    return np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)), offset=offset).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).exists():
            return folder / name
    return None


def is_mnist_folder(folder: Path) -> bool:
    """Whether ``folder`` holds the four MNIST IDX files (``.gz`` or raw)."""
    return folder.is_dir() and all(_find(folder, stem) for pair in _FILES.values() for stem in pair)


def load_mnist(folder: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (images (60000, 28, 28, 1) uint8, labels int64), "test": (...)}``.

    Raises:
        DataError: a file is missing or malformed.
    """
    folder = Path(folder)
    out = {}
    for split, (images_stem, labels_stem) in _FILES.items():
        images_path, labels_path = _find(folder, images_stem), _find(folder, labels_stem)
        if images_path is None or labels_path is None:
            raise DataError(
                f"{folder} lacks {images_stem}[.gz] or {labels_stem}[.gz]; expected the MNIST IDX files"
            )
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{images_path} and {labels_path} do not match: {images.shape} vs {labels.shape}")
        out[split] = (images.astype(np.uint8)[..., None], labels.astype(np.int64))
    return out
