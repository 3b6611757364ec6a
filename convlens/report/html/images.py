"""Small embedded pictures: a uint8 array, a PIL image or a file as a ``data:`` URI thumbnail.

Only the images a page shows are embedded, each small (longest side 256 px at most by default, JPEG or WebP at
quality 80), so the report of the book's run (1,000 test images) stays a few megabytes.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from convlens.report.html.views import Picture

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 256
FORMATS = {"jpeg": "image/jpeg", "webp": "image/webp"}

ImageSource = np.ndarray | Image.Image | str | os.PathLike


def to_pil(source: ImageSource, max_side: int | None = None) -> Image.Image:
    """An RGB or greyscale PIL image of ``source`` (uint8 ``(H, W)``, ``(H, W, 1|3|4)``, PIL image or file).

    Raises:
        TypeError: an array that is not uint8.
        ValueError: an array of another shape.
        OSError: a file that cannot be read as an image.
    """
    if isinstance(source, np.ndarray):
        return _array_to_pil(source)
    if isinstance(source, Image.Image):
        return _flatten(source)
    with Image.open(Path(source)) as image:
        if max_side:
            # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: much faster for thumbnails.
            image.draft("RGB", (max_side, max_side))
        return _flatten(image)


def _array_to_pil(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image array, got {array.dtype}; scale to 0-255 and cast first")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        return Image.fromarray(np.ascontiguousarray(array), "L")
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        return _flatten(
            Image.fromarray(np.ascontiguousarray(array), "RGB" if array.shape[-1] == 3 else "RGBA")
        )
    raise ValueError(f"expected an image array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {array.shape}")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or L; transparency is composited over white (JPEG has no alpha)."""
    if image.mode in ("RGB", "L"):
        return image.copy()
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def thumbnail(source: ImageSource, max_side: int = THUMBNAIL_SIDE) -> Image.Image:
    """``source`` shrunk (never enlarged) so that its longest side is at most ``max_side`` pixels."""
    image = to_pil(source, max_side)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def encode(image: Image.Image, fmt: str = "jpeg", quality: int = 80) -> str:
    """A ``data:`` URI of an RGB/L PIL image."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown image format {fmt!r}; choose one of {sorted(FORMATS)}")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt.upper(), quality=quality)
    return f"data:{FORMATS[fmt]};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def data_uri(
    source: ImageSource, max_side: int = THUMBNAIL_SIDE, fmt: str = "jpeg", quality: int = 80
) -> str:
    """``source`` as a small ``data:`` URI thumbnail (longest side at most ``max_side``)."""
    return encode(thumbnail(source, max_side), fmt, quality)


def picture(
    source: ImageSource | None,
    alt: str,
    caption: str = "",
    max_side: int = THUMBNAIL_SIDE,
    fmt: str = "jpeg",
) -> Picture | None:
    """A :class:`Picture` of ``source``, or ``None`` (logged) when it is missing or not an image."""
    if source is None:
        return None
    try:
        image = thumbnail(source, max_side)
    except (OSError, UnidentifiedImageError, ValueError, TypeError) as error:
        log.warning("image left out of the report: %s (%s)", _describe(source), error)
        return None
    return Picture(encode(image, fmt), alt, caption, image.width, image.height)


def _describe(source: ImageSource) -> str:
    if isinstance(source, np.ndarray):
        return f"array {source.shape} {source.dtype}"
    if isinstance(source, Image.Image):
        return f"PIL image {source.size}"
    return str(source)
