"""The report action: one self-contained HTML file for a run, a comparison of runs, or an explanation folder.

The Grad-CAM overlays a run's page shows (confusion-cell galleries, top losses) are made in one batched pass:
:func:`gradcam_overlays` answers every request of the page at once, a batch of photos per forward/backward.

Other actions keep a report up to date: ``train --report`` writes ``RUN/report.html``; ``evaluate`` re-renders
it when it exists; ``explain --out X`` re-renders ``X/report.html`` when it exists, and ``activations`` /
``filters`` into ``RUN/activations`` / ``RUN/filters`` re-render ``RUN/report.html`` (see :func:`refresh`).
A refresh keeps the options the page was written with (recorded in the page itself).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convlens import _reporting
from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError, ConvlensError, DataError

REPORT_FILE = "report.html"
OVERLAY_SIDE = 256  # overlays are drawn at thumbnail size: the page never shows them larger
BATCH = 16
# The options a run page was written with, as JSON in a <meta> (read back by refresh).
_RECORDED = re.compile(r"<meta name=\"convlens-report-options\" content='([^']*)'>")
_GENERATOR = '<meta name="generator" content="convlens'
_COMPARISON = "<title>convlens comparison of"


@dataclass
class ReportOptions:
    """``convlens report``: one run folder (its story), several (a comparison), or an explain ``--out`` folder.

    Attributes:
        paths: the folders to report on.
        out: the ``.html`` file (default ``RUN/report.html``; ``report.html`` here for a comparison).
        cmap: the overlays' colours (``jet``, the book's, or a colour-blind-safe one such as ``viridis``).
        cams: Grad-CAM overlays of the confused images and the top losses (off: photos only, no model needed).
        top_losses: how many of the largest losses to show.
        per_cell: at most this many images per confusion-matrix cell.
    """

    paths: list[Path]
    out: Path | None = None
    cmap: str = "jet"
    cams: bool = True
    top_losses: int = 16
    per_cell: int = 12

    def validate(self) -> None:
        """Raise :class:`ConfigError` before any work when an option cannot be used."""
        from convlens.explain.overlay import CMAPS

        if not self.paths:
            raise ConfigError("give a run folder (or several, or an explain --out folder) to report on")
        if self.cmap not in CMAPS:
            raise ConfigError(f"--cmap {self.cmap!r} is not one of: {', '.join(CMAPS)}")
        if self.top_losses < 0 or self.per_cell < 1:
            raise ConfigError("--top-losses must be >= 0 and --per-cell >= 1")


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

    options.validate()
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

    options.validate()
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
    recorded = {k: v for k, v in asdict(options).items() if k not in ("paths", "out")}
    return "run", pages.render_run_report(view, recorded)


def refresh(folder: str | Path, reporter: Reporter | None = None) -> ReportResult | None:
    """Re-render ``folder/report.html`` when it exists, with the options it was written with.

    Another action's own work must not fail because its report could not be redone: a failure is a warning
    and ``None``. A ``report.html`` that convlens did not write is left alone.
    """
    path = Path(folder) / REPORT_FILE
    if not path.is_file():
        return None
    with use_reporter(reporter):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
            if _GENERATOR not in text[:4096]:
                _reporting.warn(f"{path} was not written by convlens; it is left as it is")
                return None
            if _COMPARISON in text[:4096]:  # written there with --out: a run's refresh must not replace it
                return None
            result = report(ReportOptions([Path(folder)], path, **recorded_options(text)), reporter)
        except (ConvlensError, OSError) as error:
            _reporting.warn(f"{path} could not be refreshed ({error}); run convlens report {folder}")
            return None
        _reporting.message(f"refreshed {path}")
    return result


def recorded_options(html: str) -> dict[str, Any]:
    """The options a run page records (cmap, cams, top_losses, per_cell); unknown or damaged ones are dropped."""
    found = _RECORDED.search(html)
    try:
        values = json.loads(found.group(1)) if found else {}
    except json.JSONDecodeError:
        return {}
    kinds = {"cmap": str, "cams": bool, "top_losses": int, "per_cell": int}
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if k in kinds and type(v) is kinds[k]}


def is_explain_folder(path: Path) -> bool:
    """An explain ``--out``: ``summary.json``, or image folders of ``<method>.npy`` maps, and no run config."""
    if (path / "config.json").is_file():
        return False
    return (path / "summary.json").is_file() or any(path.glob("*/*.npy"))


def _default_out(paths: Sequence[Path], kind: str) -> Path:
    return Path(REPORT_FILE) if kind == "comparison" else paths[0] / REPORT_FILE


def run_overlays(run_dir: Path, cmap: str) -> Any:
    """The overlays callable of a run's report: its own model, loaded on the first request."""

    def overlays(requests: Sequence[Any]) -> Mapping[Any, np.ndarray | None]:
        from convlens.service.sources import load_model

        if not requests:
            return {}
        return gradcam_overlays(load_model(checkpoint=run_dir), requests, cmap)

    return overlays


def gradcam_overlays(
    loaded: Any, requests: Sequence[Any], cmap: str = "jet", batch_size: int = BATCH
) -> dict[Any, np.ndarray | None]:
    """Grad-CAM overlays for ``(path, class_index)`` requests, ``batch_size`` at a time.

    Each photo is decoded once: the map comes from the whole photo resized to the model's input (as
    ``convlens explain`` and ``evaluate`` see it) and is drawn over the photo's thumbnail (longest side
    :data:`OVERLAY_SIDE`). Unreadable photos give ``None``. Class 0 of a single-logit binary model is
    explained by the negated logit (:func:`convlens.labels.class_scores`).
    """
    import torch

    from convlens.explain.cam import create_explainer
    from convlens.explain.overlay import overlay

    answers: dict[Any, np.ndarray | None] = {request: None for request in requests}
    explainer = create_explainer("gradcam", loaded.model)
    with loaded.lock:
        batches = _batches(_photos(requests, loaded), batch_size)  # streamed: memory stays flat
        for batch in _reporting.track(batches, "Grad-CAM", total=-(-len(requests) // batch_size)):
            x = torch.stack([model_x for _, model_x, _ in batch])
            targets = torch.tensor([int(request[1]) for request, _, _ in batch])
            try:
                maps = explainer(x, target=targets).maps.float().cpu().numpy()
            except ConvlensError as exc:
                _reporting.warn(f"no Grad-CAM overlays in the report: {exc}")
                return answers
            for (request, _, thumb), heatmap in zip(batch, maps):
                answers[request] = overlay(thumb, heatmap, cmap=cmap)
    return answers


def _photos(requests: Sequence[Any], loaded: Any) -> Iterator[tuple[Any, Any, np.ndarray]]:
    """``(request, model input, thumbnail)`` per readable request; a photo asked for twice is decoded once."""
    from convlens.data.images import BadImage, read_photo
    from convlens.models.preprocess import model_input

    last: tuple[str, Any] = ("", None)
    for request in sorted(requests, key=lambda r: str(r[0])):
        if last[0] != str(request[0]):
            try:
                photo = read_photo(request[0], loaded.channels)
                last = (str(request[0]), (model_input(photo, loaded.cfg), thumbnail(photo)))
            except (BadImage, OSError):
                last = (str(request[0]), None)
        if last[1] is not None:
            yield (request, *last[1])


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def thumbnail(photo: np.ndarray, side: int = OVERLAY_SIDE) -> np.ndarray:
    """``photo`` shrunk so that its longest side is at most ``side`` (never enlarged)."""
    from PIL import Image

    if max(photo.shape[:2]) <= side:
        return photo
    image = Image.fromarray(photo)
    image.thumbnail((side, side))
    return np.asarray(image)
