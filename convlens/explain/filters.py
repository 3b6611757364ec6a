"""Filter patterns (SPEC step 9): the input each filter of a layer responds to most, all filters in one batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from convlens.errors import ExplainError
from convlens.explain.cam._layers import forward_order
from convlens.explain.cam.base import eval_frozen
from convlens.models.layers import get_layer


class _Stop(Exception):
    """Raised by a hook once the layer has run: nothing after the layer is computed."""


def middle_conv_layer(model: nn.Module, x: torch.Tensor) -> str:
    """A sensible default: the middle ``nn.Conv2d`` in forward order (book names when the model has them)."""
    with eval_frozen(model):
        convs = [n for n, m, _s, _o in forward_order(model, x[:1]) if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ExplainError("the model has no nn.Conv2d layer; pass --layer")
    return convs[len(convs) // 2]


def _to_model(x: torch.Tensor, cfg: dict[str, Any]) -> torch.Tensor:
    """Pixels 0-255 (the seed's space) to the model's input space (0-1, then mean/std when the weights want it)."""
    x = x / 255.0
    if cfg.get("mean") is not None:
        mean = torch.tensor(cfg["mean"], dtype=x.dtype)[:, None, None]
        x = (x - mean) / torch.tensor(cfg["std"], dtype=x.dtype)[:, None, None]
    return x


def filter_means(model: nn.Module, layer: nn.Module, x: torch.Tensor, filters: torch.Tensor) -> torch.Tensor:
    """Mean activation of filter ``filters[n]`` for image ``n`` of the batch; the forward stops at the layer."""
    out: dict[str, torch.Tensor] = {}

    def hook(_m: nn.Module, _i: Any, output: torch.Tensor) -> None:
        out["a"] = output
        raise _Stop

    handle = layer.register_forward_hook(hook)
    try:
        model(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    act = out["a"]
    if act.ndim != 4 or int(filters.max()) >= act.shape[1]:
        raise ExplainError(
            f"the layer's output {tuple(act.shape[1:])} has {act.shape[1] if act.ndim > 1 else 0} filters; ask for "
            f"at most that many (--count), or choose a conv layer (--layer)"
        )
    return act[torch.arange(act.shape[0]), filters.to(act.device)].flatten(1).mean(dim=1)


def deprocess(x: torch.Tensor) -> np.ndarray:
    """The seed's de-processing per image: zero mean, std 0.1, +0.5, clip 0-1, x255 -> uint8 (N, H, W, C)."""
    x = x - x.mean(dim=(1, 2, 3), keepdim=True)
    x = x / (x.std(dim=(1, 2, 3), keepdim=True) + 1e-5) * 0.1 + 0.5
    return (x.clamp(0, 1) * 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def seed_patterns(
    model: nn.Module,
    layer: str,
    filters: Sequence[int],
    cfg: dict[str, Any],
    size: int = 64,
    steps: int = 40,
    step: float = 1.0,
    seed: int = 0,
    init: torch.Tensor | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """Gradient ascent from grey noise (random x20 + 128), gradient / (RMS + 1e-5), ``step`` per iteration.

    All filters are optimised together: image n maximises the mean of filter ``filters[n]``; the loss is the
    sum over images and each image's gradient is normalised by its own RMS, so the math per filter is the
    seed's exactly. ``init`` overrides the noise; ``precision="bf16"`` runs the network under CPU autocast
    (the image and its update stay fp32). Returns uint8 (N, size, size, C).
    """
    device = next(model.parameters()).device
    x = (grey_noise(len(filters), cfg, size, seed) if init is None else init.clone()).to(device)
    target = torch.as_tensor(list(filters), dtype=torch.long)
    module = get_layer(model, layer)
    with eval_frozen(model):
        for _ in range(steps):
            x.requires_grad_(True)
            with torch.autocast(x.device.type, torch.bfloat16, enabled=precision == "bf16"):
                # channels-last input: oneDNN's fast convolution layout on CPUs (bf16 uses AMX then)
                pixels = _to_model(x, cfg).contiguous(memory_format=torch.channels_last)
                loss = filter_means(model, module, pixels, target).float().sum()
            (grad,) = torch.autograd.grad(loss, x)
            rms = grad.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
            x = (x + grad / (rms + 1e-5) * step).detach()
    return deprocess(x)


def grey_noise(n: int, cfg: dict[str, Any], size: int, seed: int = 0) -> torch.Tensor:
    """The seed's start: uniform noise x20 + 128, in pixels (N, C, size, size)."""
    channels = int(cfg.get("input_size", (3,))[0])
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 20 + 128


def seed_patterns_loop(
    model: nn.Module,
    layer: str,
    filters: Sequence[int],
    cfg: dict[str, Any],
    size: int = 64,
    seed: int = 0,
    **options: Any,
) -> np.ndarray:
    """The same math one filter at a time (the seed's loop, same noise); for benchmarks and tests.

    ``options`` are :func:`seed_patterns`' (``steps``, ``precision``).
    """
    noise = grey_noise(len(filters), cfg, size, seed)
    return np.concatenate(
        [
            seed_patterns(model, layer, [f], cfg, size, init=noise[i : i + 1], **options)
            for i, f in enumerate(filters)
        ]
    )


def pattern_grid(patterns: np.ndarray, per_row: int = 8, margin: int = 5) -> np.ndarray:
    """The seed's grid: ``per_row`` tiles a row with ``margin`` black pixels between them."""
    n, size = patterns.shape[0], patterns.shape[1]
    rows = -(-n // per_row)
    channels = patterns.shape[3]
    grid = np.zeros(
        (rows * size + (rows - 1) * margin, per_row * size + (per_row - 1) * margin, channels), np.uint8
    )
    for k in range(n):
        r, c = divmod(k, per_row)
        top, left = r * (size + margin), c * (size + margin)
        grid[top : top + size, left : left + size] = patterns[k]
    return grid[..., 0] if channels == 1 else grid
