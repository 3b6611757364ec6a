"""Tiny image fixtures for the data tests, generated in temporary folders."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlens.data.builtin import PETS_MINI_DIR


def save_image(path: Path, size=(20, 16), color=(200, 30, 30), mode="RGB", fmt=None, **kwargs) -> Path:
    """Write a small image with a gradient (so resizing has something to do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    ramp = np.linspace(0, 1, w)[None, :, None]
    arr = (np.array(color, dtype=np.float64)[None, None, :] * (0.5 + 0.5 * ramp)).astype(np.uint8)
    im = Image.fromarray(np.repeat(arr, h, axis=0), "RGB").convert(mode)
    im.save(path, format=fmt, **kwargs)
    return path


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Content hash and mtime of every file under ``root`` (to prove nothing was modified)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(root))] = (hashlib.sha1(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


@pytest.fixture
def make_image():
    return save_image


@pytest.fixture
def tree_snapshot():
    return snapshot


@pytest.fixture
def pets_pool(tmp_path) -> Path:
    """A writable copy of the pets-mini pool (200 small JPEGs)."""
    dst = tmp_path / "pets_pool"
    shutil.copytree(PETS_MINI_DIR, dst)
    return dst


@pytest.fixture
def split_folder(tmp_path) -> Path:
    """``train/validation/test`` with classes ``a`` and ``b``, 4/2/2 tiny images each."""
    root = tmp_path / "splits"
    for split, n in (("train", 4), ("validation", 2), ("test", 2)):
        for cls, color in (("a", (250, 10, 10)), ("b", (10, 10, 250))):
            for i in range(n):
                save_image(root / split / cls / f"{cls}{i}.png", color=color)
    return root


# tests/_corpus.py (the bad-input corpus) is shared by every test folder; with
# --import-mode=importlib the tests folder is not on sys.path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
