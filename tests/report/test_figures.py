"""Curves, confusion matrix and top-loss gallery read without the docs (issue #15)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from convlens.report import plot_gallery
from convlens.report.confusion import confusion_figure
from convlens.report.curves import curves_figure


def _history(epochs: int, resumed_at: int | None = None) -> list[dict]:
    rows = [
        {"epoch": e, "loss": 1 / e, "acc": 1 - 0.5 / e, "val_loss": 1.2 / e, "val_acc": 1 - 0.6 / e}
        for e in range(1, epochs + 1)
    ]
    if resumed_at:
        rows[resumed_at - 1]["resumed"] = True
    return rows


def _lines(ax, label: str):
    return [line for line in ax.get_lines() if line.get_label() == label]


def test_one_epoch_shows_a_validation_point_and_whole_epoch_ticks():
    fig = curves_figure(_history(1), title="pets-scratch")
    assert fig._suptitle.get_text() == "pets-scratch"
    for ax in fig.axes:
        (validation,) = _lines(ax, "Validation")
        assert validation.get_marker() not in (None, "", "None", ".")  # a visible marker, not a pixel
        assert validation.get_markersize() >= 4
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert all(float(t).is_integer() for t in ticks) and 1 in ticks


def test_a_resumed_run_is_marked_before_its_first_new_epoch():
    fig = curves_figure(_history(6, resumed_at=4))
    for ax in fig.axes:
        (mark,) = _lines(ax, "resumed")
        assert list(mark.get_xdata()) == [3.5, 3.5]
    assert not _lines(curves_figure(_history(6)).axes[0], "resumed")


def test_confusion_figure_has_counts_and_the_row_normalised_matrix():
    fig = confusion_figure(np.array([[17, 3], [6, 14]]), ["cat", "dog"])
    counts, shares = fig.axes
    assert "normalised" in shares.get_title()
    assert {t.get_text() for t in counts.texts} == {"17", "3", "6", "14"}
    assert {t.get_text() for t in shares.texts} == {"0.85", "0.15", "0.30", "0.70"}
    many = np.eye(30, dtype=np.int64) * 5 + 1
    assert len(confusion_figure(many, [f"c{i}" for i in range(30)]).axes) == 1  # one panel above 20 classes


def test_gallery_captions_are_legible(tmp_path):
    images = [np.full((40, 40, 3), 90 * i, np.uint8) for i in range(3)]
    path = plot_gallery(images, ["cat → dog\np(dog) 0.91 · loss 2.41"] * 3, tmp_path / "g.png", title="Top losses")
    width, height = Image.open(path).size
    assert width >= 3 * 250 and height >= 300  # about 290 x 350 px a tile at 100 dpi
