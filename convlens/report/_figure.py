"""Figures through matplotlib's object API (no pyplot: nothing process-wide, safe from threads) and atomic PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
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
    lay_out(fig)
    # tight_layout leaves square panels (imshow) short of room for rotated tick labels: the x label of a
    # 10-class confusion matrix fell off the bottom; a tight bounding box keeps every label in the PNG.
    write_with_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight", pad_inches=0.1))
    return path


def lay_out(fig: Any) -> None:
    """Tight layout, then the panels moved down until the figure's title covers none of them: tight_layout alone
    let a bold title lie over the two-line captions of a one-row gallery."""
    fig.tight_layout()
    title = fig._suptitle  # get_suptitle() needs matplotlib 3.8
    if title is None or not title.get_text() or not fig.axes:
        return
    renderer = FigureCanvasAgg(fig).get_renderer()
    height = fig.bbox.height
    below_title = title.get_window_extent(renderer).y0 / height
    for _ in range(5):  # panels of a fixed aspect stay centred in their box: lowering its top moves them less
        panels_top = max(ax.get_tightbbox(renderer).y1 for ax in fig.axes) / height
        if panels_top <= below_title:
            return
        fig.subplots_adjust(top=fig.subplotpars.top - (panels_top - below_title) - 0.01)
