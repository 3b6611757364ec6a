"""Curves, confusion matrix and galleries: oracle checks on the numbers, real PNGs on disk."""

from __future__ import annotations

import numpy as np
from PIL import Image

from convlens.report import (
    confusion_matrix,
    plot_confusion,
    plot_curves,
    plot_gallery,
    smooth_curve,
    top_losses,
)


def test_smooth_curve_matches_the_books_ema():
    points = [1.0, 0.0, 0.0]
    assert smooth_curve(points, 0.8) == [1.0, 0.8, 0.8 * 0.8]


def test_confusion_matrix_against_sklearn():
    from sklearn.metrics import confusion_matrix as sk_confusion

    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    assert np.array_equal(confusion_matrix(true, pred, 3), sk_confusion(true, pred, labels=[0, 1, 2]))


def test_top_losses_picks_largest_wrong():
    losses = np.array([0.1, 5.0, 3.0, 9.0])
    wrong = np.array([True, True, True, False])
    assert top_losses(losses, k=2, wrong=wrong).tolist() == [1, 2]


def test_plots_write_pngs(tmp_path):
    history = [
        {"epoch": e, "loss": 1 / e, "acc": 1 - 1 / e, "val_loss": 1.2 / e, "val_acc": 0.9 - 1 / e}
        for e in (1, 2, 3)
    ]
    paths = [
        plot_curves(history, tmp_path / "curves.png"),
        plot_curves(history, tmp_path / "curves_smoothed.png", smooth=0.8),
        plot_confusion(np.array([[3, 1], [0, 4]]), ["cat", "dog"], tmp_path / "cm.png"),
        plot_gallery([np.zeros((8, 8, 3), np.uint8)] * 3, ["a", "b", "c"], tmp_path / "g.png"),
    ]
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size[0] > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cm.png",
        "curves.png",
        "curves_smoothed.png",
        "g.png",
    ]
