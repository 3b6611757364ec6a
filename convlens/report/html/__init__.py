"""The HTML report: view models built from a run folder, rendered to one self-contained page.

    from convlens.report.html import build_run_report, render_run_report
    html = render_run_report(build_run_report("runs/scratch", overlays=my_gradcam))

``overlays`` receives a list of :class:`OverlayRequest` ``(path, class_index)`` and returns a mapping from
each request to an RGB uint8 ``(H, W, 3)`` overlay (or ``None``); it is called once per report.
"""

from convlens.report.html.build import build_run_report
from convlens.report.html.build_compare import build_comparison
from convlens.report.html.build_explain import build_explanations
from convlens.report.html.build_gallery import OverlayFn, OverlayRequest
from convlens.report.html.render import CSP, render_comparison, render_explanations, render_run_report

__all__ = [
    "CSP",
    "OverlayFn",
    "OverlayRequest",
    "build_comparison",
    "build_explanations",
    "build_run_report",
    "render_comparison",
    "render_explanations",
    "render_run_report",
]
