"""Batches of float tensors straight from uint8 arrays: no per-image Python work, no workers."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from convlens.data.augment import Augmentation, augment_batch
from convlens.data.dataset import ArrayDataset
from convlens.data.prefetch import prefetch


class BatchLoader:
    """Iterate ``(x, y)``: ``x`` float32 ``(B, C, H, W)`` in 0–1 (then ``(x - mean) / std``), ``y`` int64.

    Augmentation is applied to each whole batch on tensors (one warp call per batch).

    Args:
        dataset: the images and labels.
        batch_size: images per batch.
        shuffle: reshuffle every epoch (seeded by ``seed`` and the epoch).
        seed: base seed of shuffling and augmentation.
        augment: augmentation for the training split, or ``None``.
        mean: per-channel mean subtracted after scaling to 0–1 (e.g. 0.5 for EfficientNet-Lite).
        std: per-channel std divided by after subtracting the mean.
        drop_last: leave out the last incomplete batch.
        channels_last: return ``x`` in ``torch.channels_last`` memory format.
        pin_memory: pin batches for fast copies to a GPU.
        indices: use only these rows of ``dataset`` (e.g. one DDP rank's share).
        prefetch: make up to this many batches ahead in a background thread (0: none); the batches are the same.
    """

    def __init__(
        self,
        dataset: ArrayDataset,
        batch_size: int = 20,
        shuffle: bool = False,
        seed: int = 0,
        augment: Augmentation | None = None,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        drop_last: bool = False,
        channels_last: bool = False,
        pin_memory: bool = False,
        indices: Sequence[int] | None = None,
        prefetch: int = 0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.augment = None if augment is None or augment.is_identity else augment
        channels = dataset.image_shape[0]
        self.mean = _per_channel(mean, channels)
        self.std = _per_channel(std, channels)
        self.drop_last = drop_last
        self.channels_last = channels_last
        self.pin_memory = pin_memory and torch.cuda.is_available()
        self.indices = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
        self.prefetch = prefetch
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Reseed shuffling and augmentation for ``epoch`` (same order on every DDP rank)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.indices)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def order(self) -> np.ndarray:
        """The row order of the current epoch."""
        if not self.shuffle:
            return self.indices
        rng = np.random.default_rng([self.seed, self.epoch])
        return self.indices[rng.permutation(len(self.indices))]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        batches = self._batches()
        return prefetch(batches, self.prefetch) if self.prefetch > 0 else batches

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order()
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        for b in range(len(self)):
            rows = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self._batch(rows, generator)

    def _batch(self, rows: np.ndarray, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = self._to_float(_take(self.dataset.images, rows))
        if self.augment is not None:
            x = augment_batch(x, self.augment, generator)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = torch.from_numpy(self.dataset.labels[rows])
        if self.pin_memory:
            x, y = x.pin_memory(), y.pin_memory()
        return x, y

    def _to_float(self, images: np.ndarray) -> torch.Tensor:
        """uint8 NHWC -> float32 NCHW, scaled and normalised in single-threaded numpy passes.

        Tiny multi-threaded torch ops stall when the CPU is shared (threads wait at barriers);
        numpy does this conversion in one thread at memory speed.
        """
        layout = (0, 1, 2, 3) if self.channels_last else (0, 3, 1, 2)
        x = np.ascontiguousarray(images.transpose(layout), dtype=np.float32)
        x *= np.float32(1 / 255)
        shape = (1, 1, 1, -1) if self.channels_last else (1, -1, 1, 1)
        if self.mean is not None:
            x -= self.mean.reshape(shape)
        if self.std is not None:
            x /= self.std.reshape(shape)
        t = torch.from_numpy(x)
        return t.permute(0, 3, 1, 2) if self.channels_last else t


def _take(images: np.ndarray, rows: np.ndarray) -> np.ndarray:
    # Contiguous runs (unshuffled epochs) are one slice of the memory map, not a gather.
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):
        return np.array(images[rows[0] : rows[-1] + 1])  # a writable copy, not a view of the memory map
    return images[rows]


def _per_channel(value: float | Sequence[float] | None, channels: int) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float32).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, channels)
    if arr.size != channels:
        raise ValueError(f"mean/std has {arr.size} values but the images have {channels} channels")
    return arr
