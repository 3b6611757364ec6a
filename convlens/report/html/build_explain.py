"""Build the view of an ``explain`` output folder: per image the methods side by side, and the leaderboard.

Layout: ``<out>/<image_stem>/<method>_overlay.jpg`` (+ ``<method>.npy``, ``<method>_panels.png``) and, after
``--evaluate``, ``<out>/summary.json`` (``leaderboard`` rows, per-image ``images`` rows) and ``leaderboard.png``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from convlens.errors import DataError
from convlens.report.html import images
from convlens.report.html._files import integer, natural_key, number, read_json
from convlens.report.html.build import EXTRA_SIDE, timestamp
from convlens.report.html.views import ExplainedImage, ExplanationReport, LeaderboardRow, MethodResult

OVERLAY_SUFFIX = "_overlay.jpg"
PANELS_FOR_IMAGES = 8
PANEL_SIDE = 640


def build_explanations(folder: str | Path, max_images: int = 100) -> ExplanationReport:
    """The view of an explanation folder (at most ``max_images`` images are embedded; the page says so).

    Raises:
        DataError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; give the --out folder of convlens explain")
    notes: list[str] = []
    summary = read_json(folder / "summary.json", notes) or {}
    board = leaderboard_rows(summary.get("leaderboard"))
    scores = image_scores(summary.get("images"))
    photos = image_paths(summary.get("images"))
    order = [row.method for row in board]
    image_dirs = sorted(
        (d for d in folder.iterdir() if d.is_dir() and any(d.glob("*" + OVERLAY_SUFFIX))), key=natural_key
    )
    if not image_dirs:
        notes.append(f"{folder} holds no <image>/<method>{OVERLAY_SUFFIX} files: nothing to show.")
    shown = [
        explained_image(d, order, scores, k < PANELS_FOR_IMAGES, _by_folder(d.name, photos))
        for k, d in enumerate(image_dirs[:max_images])
    ]
    if len(image_dirs) > max_images:
        notes.append(f"Showing {max_images} of {len(image_dirs)} images (the first in name order).")
    leaderboard_png = folder / "leaderboard.png"
    from convlens.explain.evaluate import SCORE

    present = {k for row in board for k in row.scores} | {
        k for s in scores.values() for m in s.values() for k in m
    }
    return ExplanationReport(
        name=folder.resolve().name,
        images=shown,
        leaderboard=board,
        leaderboard_picture=images.picture(
            leaderboard_png if leaderboard_png.is_file() else None,
            "faithfulness leaderboard chart",
            max_side=EXTRA_SIDE,
        ),
        total_images=len(image_dirs),
        score_keys=[k for k in SCORE if k in present],
        higher_is_better={k: v > 0 for k, v in SCORE.items()},
        notes=notes,
        generated=timestamp(),
    )


def leaderboard_rows(value: Any) -> list[LeaderboardRow]:
    rows = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict) and entry.get("method"):
            numbers = {k: number(v) for k, v in entry.items() if k not in ("method", "images")}
            scores = {k: v for k, v in numbers.items() if v is not None}
            rows.append(LeaderboardRow(str(entry["method"]), integer(entry.get("images")) or 0, scores))
    return rows


def image_scores(value: Any) -> dict[str, dict[str, dict[str, float]]]:
    """``{image stem: {method: {metric: value}}}`` from the summary's per-image rows."""
    found: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for row in value if isinstance(value, list) else []:
        if isinstance(row, dict) and row.get("image") and row.get("method"):
            numbers = {k: number(v) for k, v in row.items() if k not in ("image", "method", "class")}
            found[Path(str(row["image"])).stem][str(row["method"])] = {
                k: v for k, v in numbers.items() if v is not None
            }
    return dict(found)


def image_paths(value: Any) -> dict[str, str]:
    """``{image stem: source path}`` from the summary's per-image rows."""
    rows = value if isinstance(value, list) else []
    return {
        Path(str(r["image"])).stem: str(r["image"]) for r in rows if isinstance(r, dict) and r.get("image")
    }


def explained_image(
    folder: Path,
    order: list[str],
    scores: dict[str, dict[str, dict[str, float]]],
    panels: bool,
    photo: str | None = None,
) -> ExplainedImage:
    """The overlays of every method for one image, in leaderboard order (then by name)."""
    methods = [p.name[: -len(OVERLAY_SUFFIX)] for p in folder.glob("*" + OVERLAY_SUFFIX)]
    methods.sort(key=lambda m: (order.index(m) if m in order else len(order), m))
    per_method = _by_folder(folder.name, scores) or {}
    results = []
    for method in methods:
        overlay = images.picture(folder / f"{method}{OVERLAY_SUFFIX}", f"{method} overlay of {folder.name}")
        panel_path = folder / f"{method}_panels.png"
        panel = (
            images.picture(
                panel_path, f"{method}: image, heatmap and overlay of {folder.name}", max_side=PANEL_SIDE
            )
            if panels and panel_path.is_file()
            else None
        )
        results.append(MethodResult(method, overlay, panel, per_method.get(method, {})))
    source = images.picture(photo if photo and Path(photo).is_file() else None, f"photo {folder.name}")
    return ExplainedImage(folder.name, results, source)


def _by_folder(name: str, by_stem: dict[str, Any]) -> Any:
    """The entry of the image whose output folder is ``name`` (``sub__cat.1`` for ``sub/cat.1.jpg``)."""
    if name in by_stem:
        return by_stem[name]
    return next((v for stem, v in by_stem.items() if name.endswith("__" + stem)), None)
