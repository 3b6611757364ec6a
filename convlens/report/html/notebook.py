"""Results that render themselves in a notebook: compact HTML built from the report's pieces.

``Run``, the metrics of ``evaluate_run``, ``PredictResult`` and ``ExplainResult`` have ``_repr_html_`` methods
that call these; :func:`convlens.show` wraps an image, a map or a result for inline display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from convlens.report.html.charts import history_charts
from convlens.report.html.images import data_uri
from convlens.report.html.views import Curves

SIDE = 160


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(source: Any, alt: str, side: int = SIDE) -> str:
    try:
        uri = data_uri(source, max_side=side)
    except (OSError, ValueError, TypeError):
        return f"<em>{escape(alt)}: not readable</em>"
    return f'<img src="{uri}" alt="{escape(alt)}" style="max-width:{side}px;margin:2px">'


def _f(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else str(value)


def run_html(out: Path, config: Any, history: list[dict[str, float]], classes: list[str]) -> str:
    """A run: where it is, what was trained, the last epoch, and its curves as inline SVG."""
    last = history[-1] if history else {}
    rows = [
        ("run", str(out)),
        ("model", config.model_name),
        ("mode", config.mode),
        ("classes", ", ".join(classes)),
        ("epochs", len(history)),
    ] + [(k, _f(v)) for k, v in last.items() if k != "epoch"]
    charts = "".join(str(c) for c in history_charts(Curves(list(history)), chart_id=f"nb-{id(history)}"))
    return f"<div>{_table(['', ''], rows)}<div style='display:flex;gap:8px'>{charts}</div></div>"


def metrics_html(metrics: dict[str, Any]) -> str:
    """An evaluation: accuracy and loss, per-class scores, the confusion matrix as numbers."""
    head = (
        f"<p><b>{escape(metrics.get('split', ''))}</b>: accuracy {_f(metrics.get('accuracy'))}, "
        f"loss {_f(metrics.get('loss'))} ({escape(metrics.get('count', ''))} images)</p>"
    )
    scores = [
        (n, _f(s["precision"], 3), _f(s["recall"], 3), _f(s["f1"], 3), s["support"])
        for n, s in metrics.get("per_class", {}).items()
    ]
    classes = metrics.get("classes", [])
    matrix = metrics.get("confusion_matrix", [])
    confusion = (
        _table(["true \\ predicted", *classes], [[c, *row] for c, row in zip(classes, matrix)])
        if len(classes) <= 20
        else f"<p>{len(classes)} classes: the confusion matrix is in the run's report.</p>"
    )
    return head + _table(["class", "precision", "recall", "f1", "support"], scores) + confusion


def predictions_html(records: list[dict[str, Any]], limit: int = 24) -> str:
    """Top-k per image: the photo, then class and probability."""
    cells = []
    for item in records[:limit]:
        tops = "<br>".join(f"{escape(t['label'])} {t['prob']:.3f}" for t in item["top"])
        cells.append(
            f"<div style='display:inline-block;vertical-align:top;margin:4px'>"
            f"{_img(item['image'], Path(item['image']).name)}<br>{tops}</div>"
        )
    more = f"<p>… and {len(records) - limit} more</p>" if len(records) > limit else ""
    return "".join(cells) + more


def explanations_html(records: Sequence[Any], limit: int = 24) -> str:
    """Each map's overlay with its image, method, class and score."""
    cells = []
    for record in list(records)[:limit]:
        caption = f"{Path(record.image).name}<br>{record.method} · {record.class_name} ({record.score:.2f})"
        cells.append(
            f"<div style='display:inline-block;vertical-align:top;margin:4px'>"
            f"{_img(record.files['overlay'], caption)}<br>{escape(Markup(caption).striptags())}</div>"
        )
    return "".join(cells)


class Shown:
    """What :func:`convlens.show` returns: notebooks render it (``_repr_html_``)."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def show(item: Any, side: int = 384) -> Shown:
    """Display an image file, an array (a photo or a map in [0, 1]), a ``.npy`` map, or a result, inline."""
    import numpy as np

    if hasattr(item, "_repr_html_"):
        return Shown(item._repr_html_())
    if isinstance(item, (str, Path)) and Path(item).suffix == ".npy":
        item = np.load(item)
    if isinstance(item, np.ndarray) and item.ndim == 2 and item.dtype != np.uint8:
        from convlens.explain.overlay import colorize

        item = colorize(item)
    return Shown(_img(item, "image", side))
