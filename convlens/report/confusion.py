"""Confusion matrix: counts per (true, predicted) class, drawn with row-normalised colours."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from convlens.report._figure import new_figure, save_figure


def confusion_matrix(true: Sequence[int], predicted: Sequence[int], num_classes: int) -> np.ndarray:
    """``(C, C)`` counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: str | Path) -> Path:
    """Draw ``matrix`` with its counts in the cells and write a PNG."""
    n = len(classes)
    side = max(4.0, 0.5 * n + 2)
    fig, axes = new_figure(size=(side, side))
    ax = axes[0][0]
    rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
    ax.imshow(matrix / rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels=list(classes), rotation=45, ha="right")
    ax.set_yticks(range(n), labels=list(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            colour = "white" if matrix[i, j] / rows[i, 0] > 0.5 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour, fontsize=8)
    ax.set_title("Confusion matrix")
    return save_figure(fig, path)
