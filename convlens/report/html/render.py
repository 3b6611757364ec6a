"""Render the report views to one self-contained HTML5 document (inline CSS, inline SVG, ``data:`` images).

The same Jinja2 environment (templates and filters) serves the local web app, which includes the partials.
Autoescaping is always on: class names and file names are user input.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

import convlens
from convlens.report.html import charts, confusion, formatting
from convlens.report.html.views import ComparisonReport, ExplanationReport, RunReport

# No fetch of any kind: images are data: URIs, styles are inline, there is no script.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of every convlens page: package templates, autoescape, strict undefined."""
    env = Environment(
        loader=PackageLoader("convlens.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    env.globals.update(
        history_charts=charts.history_charts,
        comparison_charts=charts.comparison_charts,
        confusion_table=confusion.confusion_table,
        cell_id=confusion.cell_id,
        version=convlens.__version__,
    )
    return env


@functools.lru_cache(maxsize=1)
def stylesheet() -> str:
    """The report's CSS (``convlens/report/static/convlens.css``)."""
    return resources.files("convlens.report").joinpath("static", "convlens.css").read_text(encoding="utf-8")


def render_page(template: str, view: Any, csp: str = CSP, **context: Any) -> str:
    """Render ``template`` with ``view`` and the inline stylesheet."""
    css = stylesheet()
    if "</" in css:
        raise ValueError("convlens.css must not contain '</' (it is inlined in a <style> element)")
    return environment().get_template(template).render(view=view, css=Markup(css), csp=csp, **context)


def render_run_report(view: RunReport, options: Mapping[str, Any] | None = None) -> str:
    """One run's report as a full HTML document; ``options`` (JSON-ready) are recorded in a ``<meta>`` so
    that a refresh can render the page again the same way."""
    return render_page("report.html", view, report_options=dict(options) if options else None)


def render_comparison(view: ComparisonReport) -> str:
    """Several runs compared on one page, as a full HTML document."""
    return render_page("comparison.html", view)


def render_explanations(view: ExplanationReport) -> str:
    """An explanation folder (methods side by side, leaderboard) as a full HTML document."""
    return render_page("explanations.html", view)
