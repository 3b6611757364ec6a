"""Figures through matplotlib's object API (no pyplot: nothing process-wide, safe from threads) and atomic PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from convlens._io import write_with_atomic


def new_figure(
    rows: int = 1, cols: int = 1, size: tuple[float, float] = (6.0, 4.0)
) -> tuple[Figure, np.ndarray]:
    """A figure and its axes (always a 2-D array), sized ``size`` inches per panel."""
    fig = Figure(figsize=(size[0] * cols, size[1] * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def save_figure(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Write ``fig`` as PNG atomically."""
    path = Path(path)
    fig.tight_layout()
    write_with_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    return path
