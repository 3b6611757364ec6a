"""``convlens explain``: stream images through one or more CAM methods and write maps, overlays and figures.

One image at a time: memory stays flat however many images a folder holds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from convlens import _reporting
from convlens.data.folders import collect_images
from convlens.data.images import BadImage, SkippedFile, read_photo
from convlens.errors import ExplainError
from convlens.explain.cam import CamExplainer, create_explainer, explainers
from convlens.explain.overlay import (
    gradient_image,
    methods_figure,
    overlay,
    panel_figure,
    resize_image,
    save_figure,
    save_image,
    save_map,
)
from convlens.labels import probabilities
from convlens.models.loaded import LoadedModel
from convlens.models.preprocess import model_input

log = logging.getLogger(__name__)


@dataclass
class ExplainConfig:
    """What ``convlens explain`` does; filled from CLI options."""

    source: Path
    out: Path
    methods: list[str] = field(default_factory=lambda: ["gradcam"])
    layer: str | None = None
    target: int | None = None
    precision: str = "fp32"
    figures: bool = True
    progress: bool = True
    cmap: str = "jet"


@dataclass
class ImageRecord:
    """What was written for one image and method."""

    image: str
    method: str
    cls: int
    class_name: str
    score: float
    layer: str
    files: dict[str, str]
    heatmap: np.ndarray | None = None  # these three are kept only while faithfulness metrics need them
    inputs: torch.Tensor | None = None
    photo_size: tuple[int, int] | None = None


def parse_class(value: str | None, classes: list[str] | None) -> int | None:
    """``--class`` as an index or a class name."""
    return LoadedModel(torch.nn.Identity(), {}, classes).class_index(value) if value is not None else None


def make_explainers(loaded: LoadedModel, config: ExplainConfig) -> dict[str, CamExplainer]:
    """One explainer per method, sharing the model (the layer is resolved once per explainer)."""
    for method in config.methods:
        explainers.entry(method)  # unknown names fail before any work, listing the choices
    return {m: create_explainer(m, loaded.model, config.layer, config.precision) for m in config.methods}


def output_stem(path: Path, source: Path) -> str:
    """A file-system-safe folder name per image, unique within the source folder, never leaving ``--out``."""
    rel = path.relative_to(source) if source.is_dir() else Path(path.name)
    parts = [re.sub(r"[^\w.\- ]", "_", part) for part in rel.with_suffix("").parts]
    stem = "__".join(parts).strip(". ") or "image"
    return stem if stem not in (".", "..") else "image"


def iter_photos(
    paths: list[Path], channels: int, skipped: list[SkippedFile]
) -> Iterator[tuple[Path, np.ndarray]]:
    """Stream ``(path, photo)``; unusable files go to ``skipped`` (with the reason), never fatal."""
    for path in paths:
        try:
            yield path, read_photo(path, channels)
        except BadImage as exc:
            skipped.append(SkippedFile(str(path), exc.reason))


def explain_images(
    loaded: LoadedModel,
    config: ExplainConfig,
    keep_maps: bool = False,
    skipped: list[SkippedFile] | None = None,
) -> Iterator[ImageRecord]:
    """Explain every image under ``config.source``; yields one record per image and method as files are written."""
    paths, skipped_here = collect_images([config.source])
    skipped = skipped if skipped is not None else []
    skipped += skipped_here
    methods = make_explainers(loaded, config)
    out = Path(config.out).resolve()
    photos = iter_photos(paths, loaded.channels, skipped)
    for path, photo in _reporting.track(photos, "explaining", total=len(paths), enabled=config.progress):
        x = model_input(photo, loaded.cfg)
        folder = image_folder(out, path, Path(config.source))
        probs = class_probabilities(loaded, x) if config.figures else None
        records, shown = [], {}
        for name, explainer in methods.items():
            result = explainer(x, target=config.target)
            record, shown[name] = _write_one(loaded, config, folder, photo, name, result, probs)
            record.image = str(path)
            if keep_maps:
                record.heatmap, record.inputs, record.photo_size = result.maps[0].numpy(), x, photo.shape[:2]
            records.append(record)
        if config.figures and len(methods) > 1:
            _write_comparison(folder, photo, shown, records)
        yield from records
    if skipped:
        _reporting.warn(
            f"skipped {len(skipped)} file(s): " + "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5])
        )


def image_folder(out: Path, path: Path, source: Path) -> Path:
    """``--out/<image stem>``, refused if it would lie anywhere but directly inside ``--out``."""
    folder = out / output_stem(path, source)
    if folder.resolve().parent != out:
        raise ExplainError(f"refusing to write outside --out {out} for {path}")
    return folder


@torch.no_grad()
def class_probabilities(loaded: LoadedModel, x: torch.Tensor) -> torch.Tensor:
    """The model's class probabilities for one input (a single logit gives ``[1 - p, p]``)."""
    return probabilities(loaded.model(x[None].to(loaded.device)))[0].cpu()


def _write_one(
    loaded: LoadedModel,
    config: ExplainConfig,
    folder: Path,
    photo: np.ndarray,
    method: str,
    result: Any,
    probs: torch.Tensor | None,
) -> tuple[ImageRecord, np.ndarray]:
    """The map, the overlay and the figure of one method; returns the record and the picture shown for it.

    Guided methods give input gradients, not a coarse map: their "overlay" is the gradient drawn in RGB at the
    photo's size, as in the Grad-CAM paper, and their figure shows it next to the Grad-CAM overlay.
    """
    heatmap = result.maps[0].cpu().numpy()
    cls = int(result.classes[0])
    names = loaded.class_names()
    name = names[cls] if cls < len(names) else str(cls)
    files = {"heatmap": folder / f"{method}.npy", "overlay": folder / f"{method}_overlay.jpg"}
    save_map(heatmap, files["heatmap"])
    gradients = result.extras.get("gradients")
    cam = torch.relu(result.raw[0]).cpu().numpy()
    cam = cam / cam.max() if cam.max() > 0 else cam  # the layer's own resolution
    if gradients is not None:
        shown = resize_image(gradient_image(gradients[0].cpu()), photo.shape[:2])
    else:
        shown = overlay(photo, heatmap, cmap=config.cmap)
    save_image(shown, files["overlay"])
    if config.figures:
        files["figure"] = folder / f"{method}_panels.png"
        p = f" · p = {float(probs[cls]):.2f}" if probs is not None and cls < len(probs) else ""
        title = f"{method} · class {name}{p} · layer {result.layer}"
        if gradients is not None:
            cam_overlay = overlay(photo, cam, cmap=config.cmap)
            fig = panel_figure(photo, shown, cam_overlay, title, middle=method, right="Grad-CAM overlay")
        else:
            fig = panel_figure(photo, cam, shown, title, cmap=config.cmap)
        save_figure(fig, files["figure"])
    record = ImageRecord(
        "", method, cls, name, float(result.scores[0]), result.layer, {k: str(v) for k, v in files.items()}
    )
    return record, shown


def _write_comparison(folder: Path, photo: np.ndarray, shown: dict[str, np.ndarray], records: list) -> None:
    """``<image>/methods.png``: every method's picture of one image side by side."""
    path = folder / "methods.png"
    first = records[0]
    save_figure(methods_figure(photo, shown, f"{Path(first.image).name} · class {first.class_name}"), path)
    for record in records:
        record.files["methods"] = str(path)
