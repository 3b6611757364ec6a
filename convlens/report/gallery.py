"""Galleries of images with captions, e.g. the top losses (the most confidently wrong predictions)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from convlens.report._figure import new_figure, save_figure


def plot_gallery(
    images: Sequence[np.ndarray], captions: Sequence[str], path: str | Path, cols: int = 4, title: str = ""
) -> Path:
    """A grid of uint8 ``(H, W, C)`` images (C = 1 or 3) with one caption each (and a title), written as PNG.

    Captions are drawn at 11 pt above each image, with room for two lines, so they stay legible when the PNG
    is shown at its own size.
    """
    count = max(len(images), 1)
    cols = min(cols, count)
    rows = math.ceil(count / cols)
    fig, axes = new_figure(rows, cols, size=(2.9, 3.5))
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(images):
            image = images[k]
            grey = image.ndim == 2 or image.shape[-1] == 1
            ax.imshow(image.squeeze(-1) if image.ndim == 3 and grey else image, cmap="gray" if grey else None)
            ax.set_title(captions[k], fontsize=11, linespacing=1.3)
    if not images:
        axes.flat[0].text(0.5, 0.5, "no images", ha="center", va="center")
    if title:
        fig.suptitle(title, fontsize=12, fontweight="bold")
    return save_figure(fig, path)


def top_losses(losses: np.ndarray, k: int = 16, wrong: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` largest losses (among the ``wrong`` predictions when given), largest first."""
    candidates = np.arange(len(losses)) if wrong is None else np.flatnonzero(wrong)
    order = np.argsort(-losses[candidates], kind="stable")
    return candidates[order[:k]]
