"""Turn photos into the input a model expects, from its ``pretrained_cfg``: the one preprocessing path.

``crop=True`` (predict, evaluation of ImageNet weights): with ``crop_pct < 1`` resize the shorter side to
``size / crop_pct`` and centre-crop ``size`` (or crop first, TensorFlow-style, see :func:`resize_crop`);
otherwise resize straight to ``size``. ``crop=False`` (explanations): the whole photo resized to the input size,
so that a map lines up with the photo. Then scale to 0-1 and apply ``(x - mean) / std`` when the model has them.
Photos are decoded by :func:`convlens.data.images.read_photo` (EXIF orientation, colour mode, bomb guard).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from convlens.data.images import INTERPOLATIONS, read_photo


def _interpolation(cfg: dict[str, Any]) -> Any:
    return INTERPOLATIONS.get(cfg.get("interpolation") or "bilinear", INTERPOLATIONS["bilinear"])


def resize_crop(image: torch.Tensor, cfg: dict[str, Any], crop: bool = True) -> torch.Tensor:
    """Resize (and centre-crop) one uint8 ``(C, H, W)`` image as ``cfg`` says.

    ``crop_mode="crop_then_resize"`` is TensorFlow's EfficientNet evaluation: centre-crop ``crop_pct`` of the
    shorter side, then resize to the input size without antialiasing (what the Lite weights were scored with:
    0.888 top-1 on the sample photos against 0.874 for resize-then-crop).
    """
    _, height, width = cfg["input_size"]
    mode = _interpolation(cfg)
    crop_pct = float(cfg.get("crop_pct") or 1.0)
    if not crop or crop_pct >= 1.0:
        return TF.resize(image, [height, width], interpolation=mode, antialias=True)
    if cfg.get("crop_mode") == "crop_then_resize":
        side = int(crop_pct * min(image.shape[-2:]))
        image = TF.center_crop(image, [side, side])
        return TF.resize(image, [height, width], interpolation=mode, antialias=False)
    image = TF.resize(image, math.floor(min(height, width) / crop_pct), interpolation=mode, antialias=True)
    return TF.center_crop(image, [height, width])


def normalise(x: torch.Tensor, cfg: dict[str, Any]) -> torch.Tensor:
    """``(x - mean) / std`` per channel when ``cfg`` has them (``x`` already in 0-1), else ``x``."""
    if cfg.get("mean") is None or cfg.get("std") is None:
        return x
    shape = (-1, 1, 1) if x.ndim == 3 else (1, -1, 1, 1)
    mean = torch.tensor(cfg["mean"], dtype=x.dtype).view(shape)
    std = torch.tensor(cfg["std"], dtype=x.dtype).view(shape)
    return (x - mean) / std


def to_tensor(images: Sequence[torch.Tensor], cfg: dict[str, Any]) -> torch.Tensor:
    """A float32 ``(N, C, H, W)`` batch in 0-1, then normalised per ``cfg`` when it has mean and std."""
    x = torch.stack(list(images)).float().div_(255)
    return normalise(x, cfg).contiguous()


def photo_tensor(photo: np.ndarray) -> torch.Tensor:
    """A uint8 ``(H, W, C)`` or ``(H, W)`` photo as a uint8 ``(C, H, W)`` tensor."""
    tensor = torch.from_numpy(
        np.array(photo, dtype=np.uint8)
    )  # a writable copy (decoded photos are read-only)
    return tensor.unsqueeze(0) if tensor.ndim == 2 else tensor.permute(2, 0, 1)


def model_input(photo: np.ndarray, cfg: dict[str, Any], crop: bool = False) -> torch.Tensor:
    """One photo (uint8, as :func:`read_photo` returns it) as the model's ``(C, H, W)`` float input."""
    channels = int(cfg.get("input_size", (3,))[0])
    image = photo_tensor(photo)
    if image.shape[0] != channels:
        image = image[:1] if channels == 1 else image.expand(3, -1, -1)
    return to_tensor([resize_crop(image, cfg, crop)], cfg)[0]


def read_image(path: str | Path, channels: int = 3) -> torch.Tensor:
    """A uint8 ``(C, H, W)`` tensor of an image file (RGB, or grey for one channel)."""
    return photo_tensor(read_photo(path, channels))


def load_batch(paths: Sequence[str | Path], cfg: dict[str, Any], crop: bool = True) -> torch.Tensor:
    """Read, convert (RGB or grey by the model's channels), resize/crop and normalise image files."""
    channels = int(cfg["input_size"][0])
    return to_tensor([resize_crop(read_image(p, channels), cfg, crop) for p in paths], cfg)
