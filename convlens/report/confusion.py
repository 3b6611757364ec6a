"""Confusion matrix: counts per (true, predicted) class and the row-normalised matrix, drawn side by side."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from convlens._io import write_text_atomic
from convlens.report._figure import new_figure, save_figure

# Above this many classes the figure shows the classes of the most-confused cells; the CSV has them all.
DRAWN_CLASSES = 50


def confusion_matrix(true: Sequence[int], predicted: Sequence[int], num_classes: int) -> np.ndarray:
    """``(C, C)`` counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def most_confused_classes(matrix: np.ndarray, limit: int = DRAWN_CLASSES) -> np.ndarray:
    """Indices of at most ``limit`` classes, taken from the largest off-diagonal cells first."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    chosen: list[int] = []
    for flat in np.argsort(-off, axis=None, kind="stable"):
        t, p = np.unravel_index(flat, off.shape)
        if off[t, p] == 0:
            break
        chosen += [c for c in (int(t), int(p)) if c not in chosen]
        if len(chosen) >= limit:
            break
    rest = [c for c in np.argsort(-matrix.sum(axis=1), kind="stable") if c not in chosen]
    return np.array(sorted((chosen + [int(c) for c in rest])[:limit]))


# Up to this many classes the figure has two panels: the counts and the row-normalised matrix.
TWO_PANELS = 20


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: str | Path) -> Path:
    """Draw ``matrix`` and write a PNG: the counts and, beside them, the matrix normalised by row (each row is a
    true class; its cells sum to 1, the diagonal is that class's recall). Above 20 classes one panel of counts
    coloured by row share; above 50 the most-confused part (the CSV has it all)."""
    return save_figure(confusion_figure(matrix, classes), path)


def confusion_figure(matrix: np.ndarray, classes: Sequence[str]) -> Figure:
    """The figure :func:`plot_confusion` writes."""
    title = "Confusion matrix"
    if len(classes) > DRAWN_CLASSES:
        keep = most_confused_classes(matrix)
        title = f"Confusion matrix: the {len(keep)} most-confused of {len(classes)} classes (all in the CSV)"
        matrix, classes = matrix[np.ix_(keep, keep)], [classes[i] for i in keep]
    n = len(classes)
    side = max(4.0, 0.5 * n + 2)
    shares = matrix / matrix.sum(axis=1, keepdims=True).clip(min=1)
    panels = [("counts", matrix)] + ([("normalised by row (recall on the diagonal)", shares)] if n <= TWO_PANELS else [])
    fig, axes = new_figure(1, len(panels), size=(side, side))
    for ax, (name, values) in zip(axes[0], panels):
        _draw_matrix(ax, values, shares, list(classes))
        ax.set_title(name, fontsize=10)
    fig.suptitle(title)
    return fig


def _draw_matrix(ax, values: np.ndarray, shares: np.ndarray, classes: list[str]) -> None:
    """One matrix coloured by row share, its values written in the cells (integers as counts, else 2 decimals)."""
    n = len(classes)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels=classes, rotation=45, ha="right")
    ax.set_yticks(range(n), labels=classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    counts = np.issubdtype(values.dtype, np.integer)
    for i in range(n):
        for j in range(n):
            text = str(values[i, j]) if counts else f"{values[i, j]:.2f}"
            colour = "white" if shares[i, j] > 0.5 else "black"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=8 if n > 10 else 10)


def write_confusion_csv(matrix: np.ndarray, classes: Sequence[str], path: str | Path) -> Path:
    """The whole matrix as CSV: a header row of predicted classes, one row per true class."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["true \\ predicted", *classes])
    for name, row in zip(classes, matrix.tolist()):
        writer.writerow([name, *row])
    write_text_atomic(path, buffer.getvalue())
    return Path(path)
