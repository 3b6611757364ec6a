"""Inline SVG line charts: selectable ``<text>``, no JavaScript, colour-blind-safe (Okabe-Ito) colours.

A chart is built from :class:`Series` (points, colour, dash, marker) and returned as safe markup for the
templates; every label is escaped here because the SVG is assembled as a string.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

# Okabe & Ito (2008), ordered for contrast on white; yellow last because it is faint on white.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
DASHES = ("", "7 3", "2 3", "9 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 58, 18, 48, 42
LEGEND_ROW = 18


@dataclass
class Series:
    """One line: ``points`` are ``(x, y)``; a ``None``/NaN ``y`` breaks the line."""

    label: str
    points: list[tuple[float, float | None]]
    colour: str
    dash: str = ""
    width: float = 2.0
    marker: str = "none"
    opacity: float = 1.0


@dataclass
class Axis:
    """A linear scale from data ``lo..hi`` to pixels ``start..end`` with its tick values."""

    lo: float
    hi: float
    start: float
    end: float
    ticks: list[float] = field(default_factory=list)

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo or 1.0
        return self.start + (value - self.lo) / span * (self.end - self.start)


@dataclass
class Mark:
    """A vertical reference line, e.g. the best epoch, with its label."""

    x: float
    label: str


def epoch_ticks(lo: float, hi: float, most: int = 10) -> list[float]:
    """Integer ticks between ``lo`` and ``hi``, a step of 1, 2, 5, 10, 20, 25, 50... so at most ``most`` of them."""
    span = max(hi - lo, 1.0)
    step = 1
    for base in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        step = base
        if span / base <= most - 1:
            break
    first = math.ceil(lo / step) * step
    return [float(t) for t in range(int(first), math.floor(hi) + 1, step) if t >= lo]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2, 2.5 or 5 x 10^k) covering ``lo..hi``."""
    if not hi > lo:
        pad = abs(lo) * 0.1 or 0.5
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [round(k * step, 10) for k in range(first, last + 1)]


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """A tick value with the fewest decimals that still writes every tick exactly (0.25 -> "0.25", 2 -> "2")."""
    decimals = next((d for d in range(8) if all(abs(round(t, d) - t) < 1e-9 for t in ticks)), 8)
    return f"{value:.{decimals}f}"


def line_chart(
    series: Sequence[Series],
    title: str,
    y_label: str,
    chart_id: str,
    x_label: str = "epoch",
    marks: Sequence[Mark] = (),
    legend_columns: int = 2,
) -> Markup:
    """One chart as an ``<svg>`` element (title, axes with ticks, lines, markers, reference lines, legend)."""
    xs = [x for s in series for x, y in s.points if _finite(y)]
    ys = [y for s in series for _, y in s.points if _finite(y)]
    if not xs:
        return Markup("")
    legend_rows = math.ceil(len(series) / legend_columns)
    height = HEIGHT + 14 + legend_rows * LEGEND_ROW
    plot_bottom = HEIGHT - BOTTOM
    x_lo, x_hi = (min(xs) - 0.5, max(xs) + 0.5) if min(xs) == max(xs) else (min(xs), max(xs))
    pad = (x_hi - x_lo) * 0.02
    x_axis = Axis(x_lo - pad, x_hi + pad, LEFT, WIDTH - RIGHT, epoch_ticks(x_lo, x_hi))
    y_ticks = nice_ticks(min(ys), max(ys))
    y_axis = Axis(y_ticks[0], y_ticks[-1], plot_bottom, TOP, y_ticks)
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d">'
        ),
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(_describe(series, x_label, y_label))}</desc>',
        f'<text class="chart-title" x="{LEFT}" y="20" font-size="14" font-weight="600">{escape(title)}</text>',
        *_axes(x_axis, y_axis, x_label, y_label),
        *(_mark(m, x_axis, y_axis) for m in marks),
        *(_series(s, x_axis, y_axis) for s in series),
        *_legend(series, plot_bottom + 54, legend_columns),
        "</svg>",
    ]
    return Markup("\n".join(parts))


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _describe(series: Sequence[Series], x_label: str, y_label: str) -> str:
    names = ", ".join(s.label for s in series)
    return f"{y_label} per {x_label}: {names}. The numbers are in the table below the chart."


def _axes(x: Axis, y: Axis, x_label: str, y_label: str) -> list[str]:
    out = ['<g class="axes" font-size="11" fill="#333" stroke="none">']
    for value in y.ticks:
        py = y(value)
        out.append(f'<line x1="{x.start}" x2="{x.end}" y1="{py:.1f}" y2="{py:.1f}" stroke="#e3e3e3"/>')
        out.append(
            f'<text x="{x.start - 6}" y="{py + 4:.1f}" text-anchor="end">{tick_label(value, y.ticks)}</text>'
        )
    for value in x.ticks:
        px = x(value)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y.start}" y2="{y.start + 4}" stroke="#555"/>')
        out.append(
            f'<text class="x-tick" x="{px:.1f}" y="{y.start + 17}" text-anchor="middle">{int(value)}</text>'
        )
    out.append(f'<line x1="{x.start}" x2="{x.end}" y1="{y.start}" y2="{y.start}" stroke="#555"/>')
    out.append(f'<line x1="{x.start}" x2="{x.start}" y1="{y.end}" y2="{y.start}" stroke="#555"/>')
    out.append(
        f'<text x="{(x.start + x.end) / 2:.1f}" y="{y.start + 33}" text-anchor="middle">{escape(x_label)}</text>'
    )
    mid = (y.start + y.end) / 2
    out.append(
        f'<text x="14" y="{mid:.1f}" text-anchor="middle" transform="rotate(-90 14 {mid:.1f})">{escape(y_label)}</text>'
    )
    out.append("</g>")
    return out


def _mark(mark: Mark, x: Axis, y: Axis) -> str:
    px = x(mark.x)
    # the label stays above the plot: centred on the line, or flush with it near either end
    share = (px - x.start) / ((x.end - x.start) or 1)
    anchor = "start" if share < 0.15 else "end" if share > 0.85 else "middle"
    return (
        f'<g class="mark"><line x1="{px:.1f}" x2="{px:.1f}" y1="{y.end}" y2="{y.start}" stroke="#444" '
        f'stroke-dasharray="3 3"/><text x="{px:.1f}" y="{y.end - 4}" font-size="11" fill="#222" text-anchor="{anchor}">'
        f"{escape(mark.label)}</text></g>"
    )


def _series(s: Series, x: Axis, y: Axis) -> str:
    label = escape(s.label)
    out = [f'<g class="series" data-label="{label}" opacity="{s.opacity}">']
    for run in _runs(s.points):
        if len(run) > 1:
            coords = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in run)
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            out.append(
                f'<polyline points="{coords}" fill="none" stroke="{s.colour}" stroke-width="{s.width}"{dash} '
                'stroke-linejoin="round"/>'
            )
    if s.marker != "none":
        out.extend(_marker(s.marker, x(px), y(py), s.colour) for px, py in s.points if _finite(py))
    out.append("</g>")
    return "".join(out)


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """The points split where a value is missing or not finite."""
    runs: list[list[tuple[float, float]]] = [[]]
    for px, py in points:
        if _finite(py):
            runs[-1].append((px, float(py)))  # type: ignore[arg-type]
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _marker(shape: str, px: float, py: float, colour: str, size: float = 3.2) -> str:
    if shape == "square":
        return f'<rect x="{px - size:.1f}" y="{py - size:.1f}" width="{2 * size:.1f}" height="{2 * size:.1f}" fill="{colour}"/>'
    if shape in ("triangle", "diamond"):
        pts = (
            [(px, py - size * 1.2), (px + size * 1.1, py + size), (px - size * 1.1, py + size)]
            if shape == "triangle"
            else [(px, py - size * 1.3), (px + size * 1.3, py), (px, py + size * 1.3), (px - size * 1.3, py)]
        )
        return f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}" fill="{colour}"/>'
    return f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{size:.1f}" fill="{colour}"/>'


def _legend(series: Sequence[Series], top: float, columns: int) -> list[str]:
    out = ['<g class="legend" font-size="11" fill="#222">']
    column_width = (WIDTH - LEFT - RIGHT) / columns
    for k, s in enumerate(series):
        lx = LEFT + (k % columns) * column_width
        ly = top + (k // columns) * LEGEND_ROW
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(
            f'<line x1="{lx:.1f}" x2="{lx + 26:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="{s.colour}" '
            f'stroke-width="{s.width}"{dash} opacity="{s.opacity}"/>'
        )
        if s.marker != "none":
            out.append(_marker(s.marker, lx + 13, ly, s.colour))
        text = s.label if len(s.label) <= 38 else s.label[:37] + "…"
        out.append(
            f'<text x="{lx + 32:.1f}" y="{ly + 4:.1f}"><title>{escape(s.label)}</title>{escape(text)}</text>'
        )
    out.append("</g>")
    return out
