"""Intermediate activations (SPEC step 8): capture through hooks, grids of every channel, one-channel views."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from torch import nn

from convlens.errors import ExplainError
from convlens.explain.cam._layers import forward_order
from convlens.explain.cam.base import eval_frozen
from convlens.explain.overlay import save_figure, save_image
from convlens.models.layers import get_layer

PER_ROW = 16


def default_layers(model: nn.Module, x: torch.Tensor, count: int = 8) -> list[str]:
    """The first ``count`` named layers with a spatial (B, C, H, W) output, in forward order.

    Named layers are the model's ``layer_names()`` when it has them (the book's ``conv2d_1`` ...), else
    every leaf module. A layer name also matches a module path that ends with it (``blocks.3`` is
    ``base.blocks.3`` in a transfer model), as ``--layers`` does.

    Raises:
        ExplainError: no layer has a spatial output.
    """
    named = list(model.layer_names()) if hasattr(model, "layer_names") else None
    with eval_frozen(model):
        order = forward_order(model, x[:1])
    names: list[str] = []
    for path, module, shape, _ in order:
        name = _layer_name(path, named) if named is not None else (path if not list(module.children()) else None)
        if name is not None and len(shape) == 4 and name not in names:
            names.append(name)
    if not names:
        raise ExplainError("no layer of this model has a spatial (channels x height x width) output; give --layers")
    return names[:count]


def _layer_name(path: str, named: list[str]) -> str | None:
    """The layer name ``path`` stands for: itself, or the name it ends with (``base.stem`` -> ``stem``)."""
    if path in named:
        return path
    return next((n for n in named if path.endswith("." + n)), None)


def capture_activations(model: nn.Module, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """Outputs of ``layers`` for ``x`` (one forward pass, forward hooks removed afterwards), in the given order."""
    found: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for name in layers:
            handles.append(get_layer(model, name).register_forward_hook(_recorder(found, name)))
        with eval_frozen(model), torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: found[name] for name in layers if name in found}


def _recorder(found: dict[str, torch.Tensor], name: str):
    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        found[name] = output.detach().clone()

    return hook


def normalise_channel(channel: np.ndarray) -> np.ndarray:
    """The seed's display normalisation: minus mean, divided by std, x64, +128, clipped to 0-255."""
    c = channel.astype(np.float64) - channel.mean()
    std = c.std()
    c = c / std if std > 0 else c
    return np.clip(c * 64 + 128, 0, 255).astype(np.uint8)


def channel_grid(activation: torch.Tensor, per_row: int = PER_ROW, scale: int = 1, gap: int = 0) -> np.ndarray:
    """Every channel of one (C, H, W) activation, normalised, ``per_row`` to a row: a uint8 grey image.

    Each channel is enlarged ``scale`` times (nearest neighbour: one activation stays one visible square) and
    channels are ``gap`` pixels apart; gaps and unused places are 0.
    """
    act = activation.float().cpu().numpy()
    channels, height, width = act.shape
    rows = -(-channels // per_row)
    cols = min(per_row, channels)
    tile_h, tile_w = height * scale, width * scale
    grid = np.zeros((rows * tile_h + (rows - 1) * gap, cols * tile_w + (cols - 1) * gap), dtype=np.uint8)
    for k in range(channels):
        r, c = divmod(k, per_row)
        top, left = r * (tile_h + gap), c * (tile_w + gap)
        tile = normalise_channel(act[k]).repeat(scale, axis=0).repeat(scale, axis=1)
        grid[top : top + tile_h, left : left + tile_w] = tile
    return grid


def readable_scale(height: int, width: int, per_row: int = PER_ROW) -> int:
    """The nearest-neighbour factor that makes a channel at least ~48 px tall without a grid wider than ~2,400 px."""
    wanted = -(-48 // max(1, height))
    widest = max(1, 2400 // max(1, per_row * width))
    return max(1, min(wanted, widest))


def activation_figure(name: str, activation: torch.Tensor, per_row: int = PER_ROW) -> Figure:
    """A layer's channels as the seed draws them (viridis, per-channel normalisation), enlarged, with gaps
    between channels and a title that names the layer and its output shape."""
    channels, height, width = activation.shape
    scale = readable_scale(height, width, min(per_row, channels))
    gap = max(2, scale)
    grid = channel_grid(activation, per_row, scale, gap)
    mask = channel_grid(torch.ones_like(activation), per_row, scale, gap) > 0  # the tiles, not the gaps
    rgba = colormaps["viridis"](grid / 255.0)
    rgba[~mask] = (1.0, 1.0, 1.0, 1.0)  # white gaps
    title_px = 34
    fig = Figure(figsize=(max(grid.shape[1], 480) / 100, (grid.shape[0] + title_px) / 100), dpi=100)
    ax = fig.add_axes((0.0, 0.0, 1.0, grid.shape[0] / (grid.shape[0] + title_px)))
    ax.imshow(rgba, interpolation="nearest", aspect="equal")
    ax.axis("off")
    fig.text(
        0.5,
        1 - 0.5 * title_px / (grid.shape[0] + title_px),
        f"{name}  ·  output {height}×{width}×{channels}  ·  {channels} channels, {per_row} a row",
        ha="center",
        va="center",
        fontsize=12,
    )
    return fig


def upscale(image: np.ndarray, min_side: int = 256) -> np.ndarray:
    """Nearest-neighbour enlargement so small maps stay visible as pixels."""
    factor = max(1, min_side // max(1, min(image.shape[:2])))
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def channel_view(channel: torch.Tensor) -> np.ndarray:
    """One channel coloured with viridis (as the seed's ``plt.matshow``): (H, W) -> (H, W, 3) uint8."""
    c = channel.float().cpu().numpy()
    span = c.max() - c.min()
    c = (c - c.min()) / span if span > 0 else np.zeros_like(c)
    return np.round(colormaps["viridis"](c)[..., :3] * 255).astype(np.uint8)


def save_activation_images(acts: dict[str, torch.Tensor], out: Path, channel: int = 0) -> list[Path]:
    """One titled grid PNG per layer and a single-channel view of the first layer; returns the files written."""
    written = []
    for name, act in acts.items():
        if act.ndim != 4:
            continue
        path = out / f"{name.replace('.', '_')}_grid.png"
        save_figure(activation_figure(name, act[0]), path)
        written.append(path)
    first = next((a for a in acts.values() if a.ndim == 4), None)
    if first is not None:
        k = min(channel, first.shape[1] - 1)
        path = out / f"{next(iter(acts)).replace('.', '_')}_channel{k}.png"
        save_image(upscale(channel_view(first[0, k])), path)
        written.append(path)
    return written
