"""Confusion matrix: counts per (true, predicted) class, drawn with row-normalised colours."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

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


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: str | Path) -> Path:
    """Draw ``matrix`` with its counts in the cells and write a PNG (the most-confused part above 50 classes)."""
    title = "Confusion matrix"
    if len(classes) > DRAWN_CLASSES:
        keep = most_confused_classes(matrix)
        title = f"Confusion matrix: the {len(keep)} most-confused of {len(classes)} classes (all in the CSV)"
        matrix, classes = matrix[np.ix_(keep, keep)], [classes[i] for i in keep]
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
    ax.set_title(title)
    return save_figure(fig, path)


def write_confusion_csv(matrix: np.ndarray, classes: Sequence[str], path: str | Path) -> Path:
    """The whole matrix as CSV: a header row of predicted classes, one row per true class."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["true \\ predicted", *classes])
    for name, row in zip(classes, matrix.tolist()):
        writer.writerow([name, *row])
    write_text_atomic(path, buffer.getvalue())
    return Path(path)
