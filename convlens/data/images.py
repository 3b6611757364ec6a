"""Decoding one image file: EXIF orientation, colour mode, decompression-bomb guard, resize.

Every failure becomes a :class:`BadImage` with a reason a person can act on; callers skip
and report such files instead of crashing.
"""

from __future__ import annotations

import logging
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from convlens.errors import ConfigError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
)
# Same order of magnitude as PIL's own guard (89.5 Mpx); an image above it is refused, not decoded.
MAX_PIXELS = 89_478_485

# The one interpolation table: PIL's filters by name (torchvision's resize accepts the same constants).
INTERPOLATIONS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


class BadImage(Exception):
    """A file that cannot be used as an image; ``reason`` says why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of a dataset, and why."""

    path: str
    reason: str


def is_image_name(path: Path) -> bool:
    """Whether the file name has an image extension (hidden files never count)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def open_image(path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``path``, check it is a sane image and apply its EXIF orientation.

    Raises:
        BadImage: unreadable, empty, not an image, too many pixels, or truncated.
    """
    path = Path(path)
    check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
        _check_pixels(path, im, max_pixels)
        im.load()
        return ImageOps.exif_transpose(im)
    except BadImage:
        raise
    except PermissionError:
        raise BadImage(path, "permission denied (make the file readable)") from None
    except UnidentifiedImageError:
        raise BadImage(path, "not an image PIL can read (wrong extension or unsupported format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(path, "decompression bomb: too many pixels") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadImage(path, f"truncated or corrupt image ({exc})") from None


def check_file(path: Path) -> None:
    """Refuse what cannot be an image file before opening it (a pipe would block the reader).

    Raises:
        BadImage: missing, a folder, not a regular file, or empty.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise BadImage(path, "file not found (or a broken symbolic link)") from None
    except PermissionError:
        raise BadImage(path, "permission denied (make the file readable)") from None
    except OSError as exc:
        raise BadImage(path, f"cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadImage(path, "a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise BadImage(path, "not a regular file (a pipe, socket or device)")
    if st.st_size == 0:
        raise BadImage(path, "empty file (0 bytes)")


def check_target_size(size: tuple[int, int] | None, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse a target size no image could be resized to.

    Raises:
        ConfigError: a side is not a positive whole number, or the area exceeds ``max_pixels``.
    """
    if size is None:
        return
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size):
        raise ConfigError(f"image size must be two positive whole numbers (height, width); got {size}")
    if size[0] * size[1] > max_pixels:
        raise ConfigError(
            f"image size {size[0]}x{size[1]} is {size[0] * size[1]:,} pixels per image, above the "
            f"{max_pixels:,} an image may have; choose a smaller image size (the book uses 150)"
        )


def _check_pixels(path: Path, im: Image.Image, max_pixels: int) -> None:
    width, height = im.size
    if width * height > max_pixels:
        raise BadImage(path, f"decompression bomb guard: {width}x{height} exceeds {max_pixels} pixels")
    if width == 0 or height == 0:
        raise BadImage(path, "image has zero width or height")


def to_mode(im: Image.Image, channels: int) -> Image.Image:
    """Convert to RGB (3 channels) or L (1 channel); 16-bit and alpha images are handled."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.int64)
        shift = 8 if arr.max(initial=0) > 255 else 0
        im = Image.fromarray((np.clip(arr, 0, 65535) >> shift).astype(np.uint8), mode="L")
    elif im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        # Transparent pixels become white, as a viewer would show them on a page.
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    return im.convert("RGB" if channels == 3 else "L")


def read_photo(path: str | os.PathLike[str], channels: int = 3, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A photo at its own size as uint8 ``(H, W, 3)`` RGB, or ``(H, W)`` grey for one channel.

    The one decoder for whole photos (predict, explain, the report): EXIF orientation applied, alpha composited
    on white, 16-bit scaled, the decompression-bomb guard on.

    Raises:
        BadImage: the file cannot be used as an image (the reason says why).
    """
    im = open_image(path, max_pixels)
    try:
        return np.asarray(to_mode(im, channels))
    except (OSError, ValueError) as exc:
        raise BadImage(Path(path), f"truncated or corrupt image ({exc})") from None


def decode(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None,
    channels: int = 3,
    interpolation: str = "bilinear",
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """Decode ``path`` to a uint8 array ``(H, W, C)`` of ``size = (H, W)`` (or the native size).

    JPEGs are decoded with DCT scaling (``draft``) to the smallest 1/2, 1/4 or 1/8 scale that is
    still at least the target size, which is several times faster; the final resize then downsamples.
    """
    path = Path(path)
    check_target_size(size, max_pixels)
    im = _open_for_size(path, size, max_pixels)
    try:
        im = to_mode(im, channels)
        if size is not None and im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), INTERPOLATIONS[interpolation])
        arr = np.array(im, dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise BadImage(path, f"truncated or corrupt image ({exc})") from None
    return arr[:, :, None] if arr.ndim == 2 else arr


def _open_for_size(path: Path, size: tuple[int, int] | None, max_pixels: int) -> Image.Image:
    if size is None or path.suffix.lower() not in (".jpg", ".jpeg"):
        return open_image(path, max_pixels)
    check_file(path)
    try:
        im = Image.open(path)
        if im.format == "JPEG":
            _check_pixels(path, im, max_pixels)
            # DCT scaling keeps at least the target side (so the final resize still downsamples);
            # a square request because EXIF rotation may swap width and height after decoding.
            side = max(size)
            im.draft("RGB" if im.mode in ("RGB", "YCbCr") else im.mode, (side, side))
            im.load()
            return ImageOps.exif_transpose(im)
    except BadImage:
        raise
    except Exception as exc:  # noqa: BLE001 - the slow path below reports the precise reason
        log.debug("fast JPEG path failed for %s (%s); retrying the plain way", path, exc)
    return open_image(path, max_pixels)
