"""Contact sheet of augmented copies of one image (the book shows four of them)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from convlens._io import write_with_atomic
from convlens.data.augment import Augmentation, augment_batch
from convlens.data.images import BadImage, decode
from convlens.errors import DataError

MARGIN = 4


def augment_preview(
    image: str | os.PathLike[str],
    out: str | os.PathLike[str],
    augmentation: Augmentation | None = None,
    count: int = 8,
    size: int = 150,
    seed: int = 0,
    columns: int | None = None,
) -> Path:
    """Write a grid: the original first, then ``count`` augmented copies, each ``size`` px.

    Args:
        image: the photo to augment (never modified).
        out: the PNG/JPEG file to write (atomically).
        augmentation: what to apply (default: the ``book`` preset).
        count: number of augmented copies.
        size: side of each square tile in pixels.
        seed: random seed; the same seed gives the same sheet.
        columns: tiles per row (default: about square).

    Raises:
        DataError: ``image`` cannot be read.
    """
    aug = augmentation or Augmentation.preset("book")
    try:
        pixels = decode(image, (size, size), channels=3)
    except BadImage as exc:
        raise DataError(f"cannot read {image}: {exc.reason}") from None
    x = torch.from_numpy(pixels).permute(2, 0, 1).float().div(255).unsqueeze(0)
    copies = augment_batch(x.repeat(count, 1, 1, 1), aug, torch.Generator().manual_seed(seed))
    tiles = torch.cat([x, copies]).clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    sheet = _grid(tiles, columns or math.ceil(math.sqrt(len(tiles))))
    path = Path(out)
    write_with_atomic(path, lambda tmp: sheet.save(tmp, format=_format_of(path)))
    return path


def _grid(tiles: np.ndarray, columns: int) -> Image.Image:
    n, h, w, _ = tiles.shape
    rows = math.ceil(n / columns)
    sheet = Image.new("RGB", (columns * (w + MARGIN) + MARGIN, rows * (h + MARGIN) + MARGIN), "white")
    draw = ImageDraw.Draw(sheet)
    for i, tile in enumerate(tiles):
        left, top = MARGIN + (i % columns) * (w + MARGIN), MARGIN + (i // columns) * (h + MARGIN)
        sheet.paste(Image.fromarray(tile), (left, top))
        if i == 0:
            draw.rectangle([left - 2, top - 2, left + w + 1, top + h + 1], outline=(220, 40, 40), width=2)
    return sheet


def _format_of(path: Path) -> str:
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(path.suffix.lower(), "PNG")
