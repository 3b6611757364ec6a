"""Training curves: accuracy and loss per epoch, raw and smoothed (EMA factor 0.8, as in seed 004)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from convlens.report._figure import new_figure, save_figure


def smooth_curve(points: Sequence[float], factor: float = 0.8) -> list[float]:
    """Exponential moving average: ``s[i] = factor * s[i-1] + (1 - factor) * p[i]``, ``s[0] = p[0]``."""
    smoothed: list[float] = []
    for point in points:
        smoothed.append(smoothed[-1] * factor + point * (1 - factor) if smoothed else point)
    return smoothed


def plot_curves(
    history: Sequence[dict[str, float]], path: str | Path, smooth: float | None = None, title: str = ""
) -> Path:
    """Plot accuracy and loss per epoch into one PNG: training as dots (the book's ``bo``), validation as a line
    with markers (one epoch is still a visible point), whole epochs on the x axis, and a dashed line before each
    epoch that followed a ``--resume`` (history rows with ``"resumed": true``).

    Args:
        history: one dict per epoch with ``loss``, ``acc`` and optionally ``val_loss``, ``val_acc``, ``resumed``.
        path: the PNG to write.
        smooth: EMA factor (0.8 in the book) or ``None`` for the raw values.
        title: a figure title (the run's name).

    Returns:
        The path written.
    """
    return save_figure(curves_figure(history, smooth, title), path)


def curves_figure(history: Sequence[dict[str, float]], smooth: float | None = None, title: str = "") -> Figure:
    """The figure :func:`plot_curves` writes."""
    fig, axes = new_figure(1, 2, size=(5.0, 3.8))
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    resumed = [e for e, row in zip(epochs, history) if row.get("resumed")]
    for ax, metric, name in ((axes[0][0], "acc", "accuracy"), (axes[0][1], "loss", "loss")):
        for key, style, label in (
            (metric, {"color": "tab:blue", "marker": "o", "linestyle": "none"}, "Training"),
            (f"val_{metric}", {"color": "tab:orange", "marker": "s", "markersize": 5}, "Validation"),
        ):
            points = [(e, row[key]) for e, row in zip(epochs, history) if key in row]
            if points:
                values = [v for _, v in points]
                shown = smooth_curve(values, smooth) if smooth else values
                ax.plot([e for e, _ in points], shown, label=label, **style)
        for k, epoch in enumerate(resumed):
            ax.axvline(epoch - 0.5, color="grey", linestyle="--", linewidth=1, label="resumed" if k == 0 else None)
        ax.set_title(f"{'Smoothed t' if smooth else 'T'}raining and validation {name}")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        if len(epochs) == 1:
            ax.set_xlim(epochs[0] - 1, epochs[0] + 1)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def plot_loss_comparison(
    curves: dict[str, Sequence[float]], path: str | Path, title: str = "Training loss"
) -> Path:
    """Several named training-loss curves on one plot (e.g. plain vs residual nets)."""
    fig, axes = new_figure(size=(6.5, 4.2))
    ax = axes[0][0]
    for name, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=name)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    return save_figure(fig, path)
