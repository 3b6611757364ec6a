"""Regularised filter patterns (Lucid / Lucent style): FFT and colour-decorrelated parameterisation, with
jitter, scale and rotation each step, so patterns come out clean instead of high-frequency noise.

Olah et al., "Feature Visualization", Distill 2017: the image is a spectrum scaled by 1/frequency, mapped
through the square root of ImageNet's colour correlation and a sigmoid; each step sees a randomly
jittered, scaled and rotated copy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convlens.explain.cam.base import eval_frozen
from convlens.explain.filters import _to_model, filter_means
from convlens.models.layers import get_layer

# Square root of ImageNet's RGB colour correlation (Lucid's color_correlation_svd_sqrt).
_COLOUR = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
_COLOUR = _COLOUR / _COLOUR.norm(dim=0).max()


def _frequency_scale(size: int, decay: float = 1.0) -> torch.Tensor:
    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    freq = torch.sqrt(fx**2 + fy**2).clamp_min(1.0 / size)
    return 1.0 / freq**decay


def _image(spectrum: torch.Tensor, scale: torch.Tensor, size: int) -> torch.Tensor:
    """Parameters -> RGB images in 0-1: inverse FFT, colour de-correlation, sigmoid."""
    spatial = torch.fft.irfft2(torch.view_as_complex(spectrum) * scale, s=(size, size), norm="ortho")
    if spatial.shape[1] == 3:
        spatial = torch.einsum("ij,bjhw->bihw", _COLOUR, spatial)
    return torch.sigmoid(spatial)


def _random_affine(x: torch.Tensor, gen: torch.Generator, jitter: int = 8) -> torch.Tensor:
    """Jitter (pixels), scale (0.9-1.1) and rotate (+-10 degrees) each image, reflect-padded."""
    n, size = x.shape[0], x.shape[-1]
    angle = (torch.rand(n, generator=gen) * 20 - 10) * math.pi / 180
    scale = 0.9 + torch.rand(n, generator=gen) * 0.2
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * 2 * jitter / size
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)


def regularised_patterns(
    model: nn.Module,
    layer: str,
    filters: Sequence[int],
    cfg: dict[str, Any],
    size: int = 64,
    steps: int = 128,
    lr: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """Maximise each filter's mean activation over a regularised image parameterisation (Adam, one batch).

    Returns uint8 (N, size, size, C).
    """
    channels = int(cfg.get("input_size", (3,))[0])
    gen = torch.Generator().manual_seed(seed)
    spectrum = (
        torch.randn(len(filters), channels, size, size // 2 + 1, 2, generator=gen) * 0.01
    ).requires_grad_()
    scale = _frequency_scale(size)
    target = torch.as_tensor(list(filters), dtype=torch.long)
    module = get_layer(model, layer)
    optimiser = torch.optim.Adam([spectrum], lr=lr)
    with eval_frozen(model):
        for _ in range(steps):
            pixels = _random_affine(_image(spectrum, scale, size), gen) * 255
            loss = -filter_means(model, module, _to_model(pixels, cfg), target).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        images = _image(spectrum, scale, size)
    return (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
