"""Turn photos into the input a model expects, from its ``pretrained_cfg``.

With ``crop_pct < 1`` (ImageNet evaluation): resize the shorter side to ``size / crop_pct`` with the configured
interpolation, then centre-crop ``size``; otherwise resize straight to ``size``. Then scale to 0-1 and apply
``(x - mean) / std`` when the model has them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}


def resize_crop(image: Image.Image, cfg: dict[str, Any]) -> Image.Image:
    """Resize (and centre-crop) one PIL image as ``cfg`` says."""
    _, height, width = cfg["input_size"]
    resample = _RESAMPLE.get(cfg.get("interpolation") or "bilinear", Image.Resampling.BILINEAR)
    crop_pct = float(cfg.get("crop_pct") or 1.0)
    if crop_pct >= 1.0:
        return image.resize((width, height), resample)
    short = math.floor(min(height, width) / crop_pct)
    scale = short / min(image.size)
    image = image.resize((max(short, round(image.width * scale)), max(short, round(image.height * scale))), resample)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def to_tensor(images: Sequence[Image.Image], cfg: dict[str, Any]) -> torch.Tensor:
    """A float32 ``(N, C, H, W)`` batch, normalised per ``cfg``."""
    arrays = [np.asarray(im, dtype=np.uint8) for im in images]
    x = torch.from_numpy(np.stack(arrays)).float().div_(255)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if cfg.get("mean") is not None and cfg.get("std") is not None:
        mean = torch.tensor(cfg["mean"], dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(cfg["std"], dtype=torch.float32).view(1, -1, 1, 1)
        x = (x - mean) / std
    return x.contiguous()


def load_batch(paths: Sequence[str | Path], cfg: dict[str, Any]) -> torch.Tensor:
    """Read, convert (RGB or grey by the model's channels), resize/crop and normalise image files."""
    mode = "L" if cfg["input_size"][0] == 1 else "RGB"
    images = []
    for path in paths:
        with Image.open(path) as im:
            images.append(resize_crop(im.convert(mode), cfg))
    return to_tensor(images, cfg)
