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


def gradient_image(gradients: np.ndarray | torch.Tensor) -> np.ndarray:
    """Input gradients (C, H, W) drawn as an RGB image, as in the Grad-CAM paper's guided-backprop figures.

    Zero mean, unit standard deviation, x0.1, +0.5, clipped to 0-1 (the paper's code, also pytorch-grad-cam's
    ``deprocess_image``): a pixel the class score does not depend on is mid-grey, and colour shows which
    channel of the input raises the score. Returns (H, W, 3) uint8.
    """
    g = np.asarray(gradients, dtype=np.float64)
    g = np.repeat(g, 3, axis=0) if g.shape[0] == 1 else g[:3]
    g = (g - g.mean()) / (g.std() + 1e-5) * 0.1 + 0.5
    return np.round(np.clip(g, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a uint8 (h, w, 3) image to ``size`` = (H, W)."""
    if image.shape[:2] == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.BILINEAR))


def panel_figure(
    photo: np.ndarray,
    heatmap: np.ndarray,
    blended: np.ndarray,
    title: str = "",
    cmap: str = "jet",
    middle: str = "heatmap",
    right: str = "overlay",
) -> Figure:
    """A 3-panel figure: the image, the heatmap (at the layer's resolution, with a colour bar) and the overlay.

    A 2-D ``heatmap`` is drawn in ``cmap`` with a colour bar; an RGB one (guided backpropagation's gradients)
    is drawn as it is, titled ``middle`` (the third panel is titled ``right``).
    """
    fig = Figure(figsize=(10, 3.6), dpi=100)
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.12 if heatmap.ndim == 2 else 1, 1]})
    aspect = (photo.shape[0] / photo.shape[1]) * (heatmap.shape[1] / heatmap.shape[0])  # shaped like the photo
    axes[0].imshow(photo, cmap="gray" if photo.ndim == 2 else None)
    if heatmap.ndim == 2:
        shown = axes[1].imshow(heatmap, cmap=cmap, vmin=0, vmax=1, aspect=aspect)
        bar = fig.colorbar(shown, ax=axes[1], fraction=0.046, pad=0.03)
        bar.set_label("relevance (0 = none, 1 = most)", fontsize=8)
        bar.ax.tick_params(labelsize=8)
    else:
        axes[1].imshow(heatmap, aspect=aspect)
    axes[2].imshow(blended)
    for ax, name in zip(axes, ("image", middle, right)):
        ax.set_title(name, fontsize=10)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def methods_figure(photo: np.ndarray, shown: dict[str, np.ndarray], title: str = "") -> Figure:
    """One figure comparing methods on one image: the photo, then each method's overlay (or gradient image)."""
    count = len(shown) + 1
    cols = min(count, 4)
    rows = -(-count // cols)
    fig = Figure(figsize=(3.0 * cols, 3.0 * rows + 0.4), dpi=100)
    axes = fig.subplots(rows, cols, squeeze=False).flat
    for ax, (name, image) in zip(axes, [("image", photo), *shown.items()]):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(name, fontsize=11)
    for ax in fig.axes:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
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
