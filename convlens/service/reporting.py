"""The report action: one self-contained HTML file for a run, a comparison of runs, or an explanation folder.

The Grad-CAM overlays a run's page shows (confusion-cell galleries, top losses) are made in one batched pass:
:func:`gradcam_overlays` answers every request of the page at once, a batch of photos per forward/backward.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convlens import _reporting
from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError, ConvlensError, DataError

OVERLAY_SIDE = 256  # overlays are drawn at thumbnail size: the page never shows them larger
BATCH = 16


@dataclass
class ReportOptions:
    """``convlens report``: one run folder (its story), several (a comparison), or an explain ``--out`` folder."""

    paths: list[Path]
    out: Path | None = None
    cmap: str = "jet"
    cams: bool = True
    top_losses: int = 16
    per_cell: int = 12


@dataclass
class ReportResult:
    path: Path
    kind: str  # "run", "comparison" or "explanations"
    bytes: int
    seconds: float


def report(options: ReportOptions, reporter: Reporter | None = None) -> ReportResult:
    """Write the report; the default file is ``RUN/report.html`` (``EXPLAIN_OUT/report.html``, or
    ``report.html`` here for a comparison)."""
    from convlens._io import write_text_atomic

    if not options.paths:
        raise ConfigError("give a run folder (or several, or an explain --out folder) to report on")
    start = time.perf_counter()
    with use_reporter(reporter):
        kind, html = render(options)
    out = Path(options.out) if options.out else _default_out(options.paths, kind)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give the .html file to write")
    write_text_atomic(out, html)
    return ReportResult(out, kind, len(html.encode("utf-8")), time.perf_counter() - start)


def render(options: ReportOptions) -> tuple[str, str]:
    """``(kind, html)`` of the report ``options`` ask for (nothing written)."""
    from convlens.report import html as pages

    paths = [Path(p) for p in options.paths]
    for path in paths:
        if not path.is_dir():
            raise DataError(
                f"{path} is not a folder; give a run folder (the --out of convlens train) or an explain --out"
            )
    if len(paths) > 1:
        return "comparison", pages.render_comparison(pages.build_comparison(paths))
    if is_explain_folder(paths[0]):
        return "explanations", pages.render_explanations(pages.build_explanations(paths[0]))
    overlays = run_overlays(paths[0], options.cmap) if options.cams else None
    view = pages.build_run_report(
        paths[0],
        overlays=overlays,
        top_losses=options.top_losses,
        per_cell=options.per_cell,
        cmap=options.cmap,
    )
    return "run", pages.render_run_report(view)


def is_explain_folder(path: Path) -> bool:
    """An explain ``--out``: ``summary.json``, or image folders of ``<method>.npy`` maps, and no run config."""
    if (path / "config.json").is_file():
        return False
    return (path / "summary.json").is_file() or any(path.glob("*/*.npy"))


def _default_out(paths: Sequence[Path], kind: str) -> Path:
    return Path("report.html") if kind == "comparison" else paths[0] / "report.html"


def run_overlays(run_dir: Path, cmap: str) -> Any:
    """The overlays callable of a run's report: its own model, loaded on the first request."""

    def overlays(requests: Sequence[Any]) -> Mapping[Any, np.ndarray | None]:
        from convlens.service.sources import load_model

        if not requests:
            return {}
        return gradcam_overlays(load_model(checkpoint=run_dir), requests, cmap)

    return overlays


def gradcam_overlays(loaded: Any, requests: Sequence[Any], cmap: str = "jet") -> dict[Any, np.ndarray | None]:
    """Grad-CAM overlays for ``(path, class_index)`` requests, in batches; unreadable photos give ``None``."""
    import torch

    from convlens.data.images import BadImage, read_photo
    from convlens.explain.cam import create_explainer
    from convlens.explain.overlay import overlay
    from convlens.models.preprocess import model_input

    answers: dict[Any, np.ndarray | None] = {}
    photos: list[tuple[Any, np.ndarray]] = []
    for request in requests:
        try:
            photos.append((request, _thumbnail(read_photo(request[0], loaded.channels))))
        except (BadImage, OSError):
            answers[request] = None
    explainer = create_explainer("gradcam", loaded.model)
    with loaded.lock:
        for batch in _reporting.track(
            [photos[i : i + BATCH] for i in range(0, len(photos), BATCH)], "Grad-CAM"
        ):
            x = torch.stack([model_input(photo, loaded.cfg) for _, photo in batch])
            targets = torch.tensor([int(request[1]) for request, _ in batch])
            try:
                maps = explainer(x, target=targets).maps.cpu().numpy()
            except ConvlensError as exc:
                _reporting.warn(f"no Grad-CAM overlays in the report: {exc}")
                return {request: None for request in requests}
            for (request, photo), heatmap in zip(batch, maps):
                answers[request] = overlay(photo, heatmap, cmap=cmap)
    return answers


def _thumbnail(photo: np.ndarray) -> np.ndarray:
    from PIL import Image

    if max(photo.shape[:2]) <= OVERLAY_SIDE:
        return photo
    image = Image.fromarray(photo)
    image.thumbnail((OVERLAY_SIDE, OVERLAY_SIDE))
    return np.asarray(image)
