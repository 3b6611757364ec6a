"""Build the view of a run report from a run folder on disk.

Every file is optional: what is missing or malformed becomes a note on the page, never an exception (except
for a path that is not a folder at all). Grad-CAM overlays are not computed here: the caller passes an
``overlays`` callable (see :class:`~convlens.report.html.build_gallery.OverlayRequest`).
"""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

from convlens.errors import DataError
from convlens.report.html import images
from convlens.report.html._files import image_files, integer, number, read_json
from convlens.report.html.build_eval import load_splits
from convlens.report.html.build_gallery import ImageOptions, OverlayFn, attach_images
from convlens.report.html.views import Curves, Extras, Picture, RunHeader, RunReport, SkippedFile

# Extras are few and full of detail (a grid of 64 filters), so they may be larger than thumbnails.
EXTRA_SIDE = 1024
EXTRAS_PER_KIND = 12


def build_run_report(
    run_dir: str | Path,
    overlays: OverlayFn | None = None,
    top_losses: int = 16,
    per_cell: int = 12,
    max_cell_images: int = 120,
    cmap: str = "jet",
    top_losses_split: str | None = None,
) -> RunReport:
    """The view of one run's report.

    Args:
        run_dir: a run folder (``config.json``, ``history.json``, ``metrics_<split>.json``,
            ``predictions_<split>.json``, optional extras).
        overlays: called once with every ``OverlayRequest(path, class_index)`` the page shows; returns
            ``{request: RGB uint8 (H, W, 3) overlay or None}``. ``None``: photos without overlays.
        top_losses: how many of the largest losses to show.
        per_cell: at most this many images per confusion cell (the count says how many there are).
        max_cell_images: at most this many cell images in all (keeps the file small with 100+ classes).
        cmap: the overlays' colormap name, shown in captions.
        top_losses_split: the split of the top losses (default: ``test``, else the last with predictions).

    Raises:
        DataError: ``run_dir`` is not a folder.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"{run_dir} is not a folder; give a run folder written by convlens train (its --out)")
    notes: list[str] = []
    config = read_json(run_dir / "config.json", notes) or {}
    if not config:
        notes.append("config.json is missing: the header shows only what the other files say.")
    header = run_header(run_dir, config)
    splits = load_splits(run_dir, header.classes, notes)
    if not header.classes and splits:
        header.classes = splits[0].classes
    options = ImageOptions(
        top_losses, per_cell, max_cell_images, top_losses_split, cmap, root=header.data or None
    )
    attach_images(splits, overlays, options, notes)
    return RunReport(
        header=header,
        curves=read_curves(run_dir, notes),
        evaluations=[s.evaluation for s in splits],
        extras=read_extras(run_dir),
        skipped=skipped_files(config),
        notes=notes,
        overlay_cmap=cmap,
        generated=timestamp(),
        cams=overlays is not None,
    )


def timestamp() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


def run_header(run_dir: Path, config: dict[str, Any]) -> RunHeader:
    """The header facts of ``config.json`` (missing fields stay empty)."""
    train = _dict(config.get("train"))
    env = _dict(config.get("environment"))
    trainable = _dict(config.get("trainable"))
    command = config.get("command")
    return RunHeader(
        name=run_dir.resolve().name,
        model=str(config.get("model") or train.get("model") or ""),
        mode=str(config.get("mode") or train.get("mode") or ""),
        base=str(train.get("base") or ""),
        unfreeze_from=str(train.get("unfreeze_from") or ""),
        data=str(train.get("data") or ""),
        classes=[str(c) for c in config.get("classes") or []],
        counts=_counts(config.get("counts")),
        trainable_params=integer(trainable.get("params")),
        frozen_params=integer(trainable.get("frozen_params")),
        trainable_tensors=integer(trainable.get("tensors")),
        tensors_before=integer(trainable.get("tensors_before")),
        precision=str(env.get("precision") or train.get("precision") or ""),
        device=str(env.get("device") or ""),
        threads=integer(env.get("threads")),
        wall_time_s=number(config.get("wall_time_s")),
        versions={
            k: str(env[k]) for k in ("convlens", "torch", "torchvision", "python", "platform") if env.get(k)
        },
        command=shlex.join(map(str, command)) if isinstance(command, list) else str(command or ""),
        options=train,
        epochs_done=integer(config.get("epoch")),
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _counts(value: Any) -> dict[str, dict[str, int]]:
    counts = {}
    for split, per_class in _dict(value).items():
        if isinstance(per_class, dict):
            counts[str(split)] = {str(k): int(v) for k, v in per_class.items() if integer(v) is not None}
    return counts


def read_curves(run_dir: Path, notes: list[str]) -> Curves:
    rows = read_json(run_dir / "history.json", notes, expect=list)
    if rows is None:
        notes.append("history.json is missing: no training curves.")
        return Curves()
    return Curves([r for r in rows if isinstance(r, dict)])


def read_extras(run_dir: Path) -> Extras:
    """The augmentation preview, activation grids and filter grids the run folder holds."""
    preview = next((p for p in image_files(run_dir) if p.stem == "augment_preview"), None)
    return Extras(
        augmentation=_pictures([preview] if preview else [], "augmented versions of one training image"),
        activations=_pictures(image_files(run_dir / "activations"), "activations of layer"),
        filters=_pictures(image_files(run_dir / "filters"), "filter patterns of layer"),
    )


def _pictures(paths: list[Path], what: str) -> list[Picture]:
    pictures = []
    for path in paths[:EXTRAS_PER_KIND]:
        alt = f"{what} {path.stem}" if "layer" in what else what
        found = images.picture(path, alt, caption=path.stem, max_side=EXTRA_SIDE)
        if found is not None:
            pictures.append(found)
    return pictures


def skipped_files(config: dict[str, Any]) -> list[SkippedFile]:
    items = config.get("skipped")
    if not isinstance(items, list):
        return []
    return [
        SkippedFile(str(i.get("path", "")), str(i.get("reason", ""))) for i in items if isinstance(i, dict)
    ]
