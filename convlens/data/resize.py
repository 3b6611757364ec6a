"""Resizing whole uint8 arrays (built-ins, MNIST) on tensors."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def resize_arrays(images: np.ndarray, size: tuple[int, int] | None, channels: int) -> np.ndarray:
    """Resize uint8 ``(N, H, W, C)`` to ``size`` (bilinear, antialiased) and to ``channels``.

    Grey images are repeated to three channels; colour images become grey with the ITU-R 601
    luma weights PIL uses for ``convert("L")``.
    """
    out = images
    if out.shape[-1] != channels:
        out = _convert_channels(out, channels)
    if size is not None and tuple(out.shape[1:3]) != tuple(size):
        chunks = [_resize_chunk(out[i : i + 4096], size) for i in range(0, len(out), 4096)]
        out = np.concatenate(chunks) if chunks else np.zeros((0, *size, channels), np.uint8)
    return np.ascontiguousarray(out)


def _resize_chunk(chunk: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(chunk)).permute(0, 3, 1, 2).float()
    y = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return y.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _convert_channels(images: np.ndarray, channels: int) -> np.ndarray:
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.clip(np.rint(images.astype(np.float32) @ weights), 0, 255).astype(np.uint8)[..., None]
