"""``convlens explain``: stream images through one or more CAM methods and write maps, overlays and figures.

One image at a time: memory stays flat however many images a folder holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from convlens._console import track
from convlens.explain._inputs import LoadedModel, iter_photos, list_images, model_input
from convlens.explain.cam import CamExplainer, ExplainError, create_explainer, explainers
from convlens.explain.overlay import overlay, panel_figure, save_figure, save_image, save_map

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
    if value is None:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    if classes and value in classes:
        return classes.index(value)
    raise ExplainError(f"unknown class {value!r}; give an index or one of: {', '.join((classes or [])[:20])}")


def make_explainers(loaded: LoadedModel, config: ExplainConfig) -> dict[str, CamExplainer]:
    """One explainer per method, sharing the model (the layer is resolved once per explainer)."""
    for method in config.methods:
        explainers.entry(method)  # unknown names fail before any work, listing the choices
    return {m: create_explainer(m, loaded.model, config.layer, config.precision) for m in config.methods}


def output_stem(path: Path, source: Path) -> str:
    """A file-system-safe name per image, unique within the source folder."""
    rel = path.relative_to(source) if source.is_dir() else Path(path.name)
    return "__".join(rel.with_suffix("").parts)


def explain_images(
    loaded: LoadedModel, config: ExplainConfig, keep_maps: bool = False
) -> Iterator[ImageRecord]:
    """Explain every image under ``config.source``; yields one record per image and method as files are written."""
    paths = list_images(config.source)
    methods = make_explainers(loaded, config)
    channels = int(loaded.cfg.get("input_size", (3,))[0])
    for path, photo in track(
        iter_photos(paths, channels), "explaining", total=len(paths), enabled=config.progress
    ):
        x = model_input(photo, loaded.cfg)
        for name, explainer in methods.items():
            result = explainer(x, target=config.target)
            record = _write_one(loaded, config, path, photo, name, result)
            if keep_maps:
                record.heatmap, record.inputs, record.photo_size = result.maps[0].numpy(), x, photo.shape[:2]
            yield record


def _write_one(
    loaded: LoadedModel, config: ExplainConfig, path: Path, photo: np.ndarray, method: str, result: Any
) -> ImageRecord:
    heatmap = result.maps[0].numpy()
    cls = int(result.classes[0])
    name = loaded.classes[cls] if loaded.classes and cls < len(loaded.classes) else str(cls)
    folder = config.out / output_stem(path, config.source)
    files = {"heatmap": folder / f"{method}.npy", "overlay": folder / f"{method}_overlay.jpg"}
    save_map(heatmap, files["heatmap"])
    blended = overlay(photo, heatmap)
    save_image(blended, files["overlay"])
    if config.figures:
        files["figure"] = folder / f"{method}_panels.png"
        low_res = heatmap if "gradients" in result.extras else torch.relu(result.raw[0]).numpy()
        low_res = low_res / low_res.max() if low_res.max() > 0 else low_res  # the layer's own resolution
        fig = panel_figure(photo, low_res, blended, f"{method} · {name} · {result.layer}")
        save_figure(fig, files["figure"])
    return ImageRecord(
        str(path),
        method,
        cls,
        name,
        float(result.scores[0]),
        result.layer,
        {k: str(v) for k, v in files.items()},
    )
