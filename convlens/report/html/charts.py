"""The report's charts: a run's loss and accuracy curves, and several runs overlaid for a comparison."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from convlens.report.curves import smooth_curve
from convlens.report.html.svg import DASHES, MARKERS, OKABE_ITO, Mark, Series, line_chart
from convlens.report.html.views import ComparedRun, Curves

METRICS = (("loss", "Loss", "loss"), ("acc", "Accuracy", "accuracy"))
TRAINING, VALIDATION = OKABE_ITO[0], OKABE_ITO[1]


def column(rows: Sequence[dict[str, float]], key: str) -> list[tuple[float, float | None]]:
    """``(epoch, value)`` per row that has ``key`` (a row without ``epoch`` counts from 1)."""
    return [(float(r.get("epoch", i + 1)), _number(r[key])) for i, r in enumerate(rows) if key in r]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def smoothed(points: list[tuple[float, float | None]], factor: float) -> list[tuple[float, float | None]]:
    """The EMA of the finite values (``s[0] = p[0]``, ``s[i] = factor * s[i-1] + (1 - factor) * p[i]``)."""
    kept = [(x, y) for x, y in points if y is not None]
    return list(zip([x for x, _ in kept], smooth_curve([y for _, y in kept], factor)))


def history_series(curves: Curves, key: str) -> list[Series]:
    """Training and validation of one metric, raw (markers) and EMA-smoothed (thick line)."""
    out = []
    for prefix, name, colour, dash, marker in (
        ("", "Training", TRAINING, "", "circle"),
        ("val_", "Validation", VALIDATION, "7 3", "square"),
    ):
        raw = column(curves.rows, prefix + key)
        if not any(y is not None for _, y in raw):
            continue
        out.append(Series(name, raw, colour, width=1.0, marker=marker, opacity=0.55))
        if len(raw) >= 3:
            label = f"{name}, smoothed (EMA {curves.smoothing:g})"
            out.append(Series(label, smoothed(raw, curves.smoothing), colour, dash=dash, width=2.4))
    return out


def history_charts(curves: Curves, chart_id: str = "curves") -> list[Markup]:
    """The loss chart and the accuracy chart of one run, the best epoch (lowest ``val_loss``) marked on both."""
    best = curves.best_epoch
    charts = []
    for key, title, y_label in METRICS:
        series = history_series(curves, key)
        if not series:
            continue
        marks = [Mark(best, f"best epoch {best}")] if best is not None else []
        chart = line_chart(
            series, f"{title}: training and validation", y_label, f"{chart_id}-{key}", marks=marks
        )
        charts.append(chart)
    return charts


def comparison_charts(runs: Sequence[ComparedRun], chart_id: str = "compare") -> list[Markup]:
    """Validation (solid, markers) and training (thin dotted) curves of every run, one colour per run."""
    charts = []
    for key, title, y_label in METRICS:
        series = []
        for k, run in enumerate(runs):
            colour, marker = OKABE_ITO[k % len(OKABE_ITO)], MARKERS[k % len(MARKERS)]
            dash = DASHES[(k // len(OKABE_ITO)) % len(DASHES)]
            # short enough that "(validation)" still fits a legend column; the table has the full name
            name = run.header.name if len(run.header.name) <= 18 else run.header.name[:17] + "…"
            val = column(run.curves.rows, "val_" + key)
            if any(y is not None for _, y in val):
                series.append(Series(f"{name} (validation)", val, colour, dash=dash, marker=marker))
            train = column(run.curves.rows, key)
            if any(y is not None for _, y in train):
                series.append(Series(f"{name} (training)", train, colour, dash="1 3", width=1.4, opacity=0.8))
        if series:
            charts.append(line_chart(series, f"{title} of every run", y_label, f"{chart_id}-{key}"))
    return charts
