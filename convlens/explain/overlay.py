"""Heatmap overlays and the 3-panel figure (image, heatmap, overlay), as in the seeds' cv2 code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL import Image

from convlens._io import write_with_atomic

INTENSITY = 0.4  # the seeds: superimposed = heatmap * 0.4 + img


CMAPS = ("jet", "viridis", "magma", "inferno", "cividis", "turbo")  # jet is the book's; the others are
# perceptually uniform and readable with colour-vision deficiencies


def colorize(heatmap: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """Colour a map in [0, 1]: (H, W) float -> (H, W, 3) uint8 RGB (``cmap`` from :data:`CMAPS`)."""
    if cmap not in CMAPS:
        from convlens.errors import ConfigError

        raise ConfigError(f"colormap {cmap!r} is not one of: {', '.join(CMAPS)}")
    rgb = colormaps[cmap](np.clip(heatmap, 0.0, 1.0))[..., :3]
    return np.round(rgb * 255).astype(np.uint8)


def jet(heatmap: np.ndarray) -> np.ndarray:
    """Colour a map in [0, 1] with the JET colour map (the seeds' ``cv2.COLORMAP_JET``)."""
    return colorize(heatmap, "jet")


def resize_map(heatmap: np.ndarray | torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a (h, w) map to ``size`` = (H, W), kept in [0, 1]."""
    t = torch.as_tensor(np.asarray(heatmap, dtype=np.float32))[None, None]
    if tuple(t.shape[-2:]) != tuple(size):
        t = F.interpolate(t, size=size, mode="bilinear", align_corners=False)
    return t[0, 0].clamp(0, 1).numpy()


def overlay(
    photo: np.ndarray, heatmap: np.ndarray | torch.Tensor, intensity: float = INTENSITY, cmap: str = "jet"
) -> np.ndarray:
    """``photo + intensity * colour(heatmap)`` at the photo's own size, saturated to 0-255 (as cv2.imwrite).

    Args:
        photo: (H, W, 3) or (H, W) uint8 image.
        heatmap: map in [0, 1] of any size; resized to the photo.
        intensity: the map's weight (the seeds: 0.4).
        cmap: ``jet`` (the book's) or a colour-blind-safe map such as ``viridis``.
    """
    rgb = photo if photo.ndim == 3 else np.repeat(photo[..., None], 3, axis=2)
    colour = colorize(resize_map(heatmap, rgb.shape[:2]), cmap).astype(np.float32)
    return np.clip(rgb.astype(np.float32) + intensity * colour, 0, 255).astype(np.uint8)


def panel_figure(photo: np.ndarray, heatmap: np.ndarray, blended: np.ndarray, title: str = "") -> Figure:
    """A 3-panel figure: the image, the heatmap (JET, at the layer's resolution) and the overlay."""
    fig = Figure(figsize=(9, 3.3), dpi=100)
    axes = fig.subplots(1, 3)
    aspect = (photo.shape[0] / photo.shape[1]) * (
        heatmap.shape[1] / heatmap.shape[0]
    )  # heatmap shaped like the photo
    for ax, img, name in zip(axes, (photo, heatmap, blended), ("image", "heatmap", "overlay")):
        ax.imshow(
            img,
            cmap="jet" if img is heatmap else ("gray" if img.ndim == 2 else None),
            vmin=0,
            aspect=aspect if img is heatmap else "equal",
        )
        ax.set_title(name)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: Path) -> None:
    """Write a figure atomically (no pyplot state, so nothing accumulates over many images)."""
    write_with_atomic(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip(".") or "png"))


def save_image(array: np.ndarray, path: Path) -> None:
    """Write a uint8 image atomically (format from the suffix)."""
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower(), "PNG")
    write_with_atomic(path, lambda tmp: Image.fromarray(array).save(tmp, format=fmt, quality=92))


def save_map(heatmap: np.ndarray, path: Path) -> None:
    """Write a heatmap as ``.npy`` (float32, values in [0, 1]) atomically."""
    write_with_atomic(path, lambda tmp: np.save(tmp, np.asarray(heatmap, dtype=np.float32)))
