"""Fast feature extraction: run the base once per split, keep the features on disk, train a head on them."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from convlens import _paths
from convlens._io import atomic_path
from convlens._reporting import track
from convlens.train._device import Precision

log = logging.getLogger(__name__)


def cache_root() -> Path:
    """``$CONVLENS_CACHE/features`` (default ``~/.cache/convlens/features``)."""
    return _paths.cache_root("features")


def weights_digest(model: nn.Module) -> str:
    """SHA-256 over the model's parameters and buffers: different weights, different cache entry."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def data_digest(dataset: Any) -> str:
    """SHA-256 over a dataset's images, labels and classes."""
    digest = hashlib.sha256(json.dumps(dataset.classes).encode())
    digest.update(np.ascontiguousarray(dataset.labels).tobytes())
    images = dataset.images
    for start in range(0, len(images), 256):
        digest.update(np.ascontiguousarray(images[start : start + 256]).tobytes())
    return digest.hexdigest()


class FeatureCache:
    """Features of one (base, weights, data, size, precision) on disk, one safetensors file per key.

    Args:
        root: the cache folder (default :func:`cache_root`).
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_root()

    @staticmethod
    def key(**parts: Any) -> str:
        """A short stable key from the named parts."""
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        """The file of ``key``."""
        return self.root / f"{key}.safetensors"

    def get(self, key: str) -> torch.Tensor | None:
        """The cached features, or ``None``."""
        path = self.path(key)
        if not path.is_file():
            return None
        log.info("feature cache hit: %s", path)
        return load_file(str(path))["features"]

    def put(self, key: str, features: torch.Tensor) -> None:
        """Store ``features`` atomically."""
        with atomic_path(self.path(key)) as tmp:
            save_file({"features": features.contiguous()}, str(tmp))


@torch.no_grad()
def extract_features(
    base: nn.Module, loader: Iterable[Any], precision: Precision, progress: bool = True, pool: bool = False
) -> torch.Tensor:
    """``base.forward_features`` over every batch, in eval mode, stacked on the CPU.

    With ``pool`` the maps are averaged over space first (``(N, C)``): a head that pools anyway then reads
    (and the cache stores) H x W times fewer numbers.
    """
    was_training = base.training
    base.eval()
    chunks = []
    try:
        for x, _ in track(loader, "extracting features", enabled=progress):
            x = x.to(precision.device)
            if precision.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with precision.autocast():
                features = base.forward_features(x).float()
            chunks.append((features.mean(dim=(2, 3)) if pool else features).cpu().contiguous())
    finally:
        base.train(was_training)
    return torch.cat(chunks)


class FeatureLoader:
    """Batches of cached features and labels, shuffled with ``seed + epoch`` (like ``BatchLoader``)."""

    def __init__(
        self, features: torch.Tensor, labels: Any, batch_size: int, shuffle: bool = False, seed: int = 0
    ):
        self.features = features
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
        self.batch_size, self.shuffle, self.seed, self.epoch = batch_size, shuffle, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Reseed the shuffling."""
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed + self.epoch))
        else:
            order = torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.features[idx], self.labels[idx]
