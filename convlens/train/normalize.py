"""Input normalisations ``--normalize`` can name for a network trained from scratch, written once.

``none`` feeds pixels scaled to 0-1, as the seed's ``rescale=1/255``. ``dataset`` also standardises each channel
with the mean and standard deviation of the training photos (what Keras' ``Normalization`` layer learns in
``adapt``): the first layer then sees centred inputs of unit spread instead of all-positive ones. It is an affine
change of the input, so the network can express the same functions either way; only how fast it learns differs.

The mean and std go into the model's ``pretrained_cfg``, the one place inputs are normalised from: the run's
checkpoint carries them, so evaluate, predict, the explain views and export prepare photos the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

CHUNK = 256  # images per pass: bounded memory on large training sets (float64 sums, never the whole set)


def channel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 ``(N, H, W, C)`` images, in 0-1 units."""
    channels = images.shape[-1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    for start in range(0, len(images), CHUNK):
        pixels = np.asarray(images[start : start + CHUNK], dtype=np.float64).reshape(-1, channels) / 255.0
        total += pixels.sum(axis=0)
        squares += np.square(pixels).sum(axis=0)
    count = images.size // channels
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - np.square(mean), 0.0))
    # a channel with a single value everywhere (blank images) is only centred, never divided by zero
    std = np.where(std > 1e-6, std, 1.0)
    return mean.tolist(), std.tolist()


def _none(splits: Any) -> None:
    return None


def _dataset(splits: Any) -> tuple[list[float], list[float]]:
    return channel_stats(splits.train.images)


# each takes the run's ``DataSplits`` and gives (mean, std) per channel, or None for 0-1 inputs
NORMALIZATIONS: dict[str, Callable[[Any], tuple[list[float], list[float]] | None]] = {
    "none": _none,
    "dataset": _dataset,
}


def apply_normalization(model: Any, name: str, splits: Any) -> None:
    """Set ``model.pretrained_cfg``'s mean/std as normalisation ``name`` computes them (from the training split)."""
    stats = NORMALIZATIONS[name](splits)
    if stats is not None:
        model.pretrained_cfg.update(mean=tuple(stats[0]), std=tuple(stats[1]))
