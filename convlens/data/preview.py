"""Contact sheet of augmented copies of one image (the book shows four of them)."""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from convlens._io import write_with_atomic
from convlens.data.augment import Augmentation, augment_batch
from convlens.data.images import MAX_PIXELS, BadImage, check_target_size, decode
from convlens.errors import ConfigError, DataError

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
        ConfigError: ``count`` or ``size`` out of range, or ``out`` is ``image`` itself.
    """
    aug = augmentation or Augmentation.preset("book")
    _check_sheet(image, out, count, size, columns)
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


def _check_sheet(image, out, count: int, size: int, columns: int | None) -> None:
    if count < 1:
        raise ConfigError(f"--count must be at least 1 (the number of augmented copies); got {count}")
    if columns is not None and columns < 1:
        raise ConfigError(f"columns must be at least 1; got {columns}")
    check_target_size((size, size))
    side = math.ceil(math.sqrt(count + 1)) * (size + MARGIN)
    if side * side > MAX_PIXELS:
        raise ConfigError(
            f"a sheet of {count + 1} tiles of {size} px would be about {side}x{side} pixels; "
            "lower --count or --size"
        )
    with contextlib.suppress(OSError):
        if Path(out).exists() and os.path.samefile(image, out):
            raise ConfigError(f"--out {out} is the photo itself; write the sheet to another file")


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
