"""Models and images for the explain commands: resolve ``--model`` / ``--checkpoint``, list and load photos."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from convlens.data.images import BadImage, is_image_name, open_image
from convlens.errors import ConfigError, DataError

log = logging.getLogger(__name__)
_RESAMPLE = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "nearest": Image.Resampling.NEAREST,
}


@dataclass
class LoadedModel:
    """A model ready to explain, with its preprocessing (``pretrained_cfg``) and class names."""

    model: nn.Module
    cfg: dict[str, Any]
    classes: list[str] | None


def load_model(name: str | None, checkpoint: str | None) -> LoadedModel:
    """``--model NAME`` (pretrained weights when available offline) or ``--checkpoint RUN``; exactly one."""
    if (name is None) == (checkpoint is None):
        raise ConfigError("give exactly one of --model NAME or --checkpoint RUN_DIR")
    from convlens import models
    from convlens.train import load_run  # a run of any training mode, or a plain convlens checkpoint

    if checkpoint is not None:
        model, config = load_run(checkpoint)
        classes = config.get("classes")
    else:
        model = _create_pretrained(models, name)
        classes = None
    cfg = dict(getattr(model, "pretrained_cfg", {}) or {})
    if classes is None and cfg.get("labels"):
        classes = _imagenet_names(cfg["labels"])
    return LoadedModel(model.eval(), cfg, list(classes) if classes else None)


def _create_pretrained(models: Any, name: str) -> nn.Module:
    try:
        return models.create(name, pretrained=True)
    except Exception as exc:
        from convlens.errors import UnknownName

        if isinstance(exc, UnknownName):
            raise
        log.warning("no pretrained weights for %s (%s); explaining a randomly initialised model", name, exc)
        return models.create(name)


def _imagenet_names(wnids: list[str]) -> list[str]:
    from convlens.models import imagenet

    return [imagenet.label_of(w) for w in wnids]


def list_images(path: str | Path) -> list[Path]:
    """One image file, or the image files of a folder (recursively, sorted)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path} does not exist; give an image file or a folder of images")
    files = sorted(p for p in path.rglob("*") if p.is_file() and is_image_name(p))
    if not files:
        raise DataError(f"{path} holds no images (.jpg, .png, ...); give an image file or a folder of images")
    return files


def load_photo(path: Path, channels: int = 3) -> np.ndarray:
    """The photo as uint8, (H, W, 3) RGB or (H, W) grey; raises BadImage when unreadable."""
    im = open_image(path)
    return np.asarray(im.convert("RGB" if channels == 3 else "L"))


def model_input(photo: np.ndarray, cfg: dict[str, Any]) -> torch.Tensor:
    """The whole photo resized (no crop, so maps line up with the photo) and normalised as ``cfg`` says."""
    channels, height, width = cfg.get("input_size", (3, 224, 224))
    im = Image.fromarray(photo).convert("RGB" if channels == 3 else "L")
    im = im.resize(
        (width, height), _RESAMPLE.get(cfg.get("interpolation", "bilinear"), Image.Resampling.BILINEAR)
    )
    x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0)
    x = x[None] if x.ndim == 2 else x.permute(2, 0, 1)
    if cfg.get("mean") is not None:
        mean = torch.tensor(cfg["mean"], dtype=torch.float32)[:, None, None]
        x = (x - mean) / torch.tensor(cfg["std"], dtype=torch.float32)[:, None, None]
    return x


def iter_photos(paths: list[Path], channels: int) -> Iterator[tuple[Path, np.ndarray]]:
    """Stream ``(path, photo)``; unreadable files are logged and skipped, never fatal."""
    for path in paths:
        try:
            yield path, load_photo(path, channels)
        except BadImage as exc:
            log.warning("skipping %s", exc)
