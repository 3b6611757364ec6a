"""Curves, confusion matrix and top-loss gallery read without the docs (issue #15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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


def test_top_loss_gallery_has_a_header_and_names_actual_predicted_probability_loss(tmp_path, monkeypatch):
    import convlens.report
    from convlens.runs import RunDir
    from convlens.train.evaluate import write_figures

    drawn = {}

    def gallery(images, captions, path, title=""):
        drawn.update(images=images, captions=captions, title=title)
        return Path(path)

    monkeypatch.setattr(convlens.report, "plot_gallery", gallery)
    records = [
        {"label": 0, "pred": 1, "prob_pred": 0.91, "loss": 2.41},
        {"label": 1, "pred": 1, "prob_pred": 0.99, "loss": 0.01},
        {"label": 1, "pred": 0, "prob_pred": 0.55, "loss": 0.80},
    ]
    dataset = type("D", (), {"images": [np.full((8, 8, 3), k, np.uint8) for k in range(3)]})()
    metrics = {"classes": ["cat", "dog"], "confusion_matrix": [[0, 1], [1, 1]]}
    write_figures(RunDir(tmp_path), "test", dataset, records, metrics)
    assert all(word in drawn["title"] for word in ("actual → predicted", "probability", "loss"))
    assert drawn["captions"] == ["cat → dog\np(dog) 0.91 · loss 2.41", "dog → cat\np(cat) 0.55 · loss 0.80"]
    assert [int(image[0, 0, 0]) for image in drawn["images"]] == [0, 2]  # the wrong ones, largest loss first


def _border_is_blank(path) -> bool:
    grey = np.asarray(Image.open(path).convert("L"))
    return all(int(edge.min()) == 255 for edge in (grey[:3], grey[-3:], grey[:, :3], grey[:, -3:]))


def test_no_label_is_cut_off_at_the_edge_of_a_saved_figure(tmp_path):
    from convlens.report import plot_confusion, plot_curves

    rng = np.random.default_rng(0)
    for n in (2, 10, 30):  # the 10-class matrix's "predicted" label fell off the bottom
        matrix = rng.integers(0, 40, (n, n))
        path = plot_confusion(matrix, [f"class {i}" for i in range(n)], tmp_path / f"confusion{n}.png")
        assert _border_is_blank(path), n
    assert _border_is_blank(plot_curves(_history(3, resumed_at=2), tmp_path / "curves.png", title="run"))


@pytest.mark.parametrize("count", [3, 8])
def test_the_gallery_header_covers_no_caption(count):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from convlens.report._figure import lay_out
    from convlens.report.gallery import gallery_figure

    images = [np.zeros((40, 40, 3), np.uint8)] * count
    fig = gallery_figure(images, ["dog → cat\np(cat) 0.53 · loss 0.75"] * count, title="Top losses on test: …")
    lay_out(fig)  # as save_figure does; the one-row gallery's header lay over its captions
    renderer = FigureCanvasAgg(fig).get_renderer()
    header = fig._suptitle.get_window_extent(renderer)
    captions = [ax.title.get_window_extent(renderer) for ax in fig.axes if ax.get_title()]
    assert len(captions) == count and not any(header.overlaps(box) for box in captions)
