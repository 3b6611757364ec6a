"""Tiny models and loaders for the trainer tests (CPU, milliseconds)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from convlens._io import atomic_path, write_json_atomic


def tiny_model(num_outputs: int = 1, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(4, num_outputs),
    )


class TinyLoader:
    """Shuffles and 'augments' (random noise) with seed + epoch, like convlens.data.BatchLoader."""

    def __init__(
        self, n: int = 16, batch_size: int = 4, seed: int = 0, classes: int = 2, nan_at: int | None = None
    ):
        g = torch.Generator().manual_seed(123)
        self.y = torch.arange(n) % classes
        self.x = torch.rand(n, 3, 8, 8, generator=g) * 0.2 + self.y.view(-1, 1, 1, 1).float() * 0.5
        self.batch_size, self.seed, self.epoch, self.nan_at = batch_size, seed, 0, nan_at

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(len(self.y) / self.batch_size)

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.y), generator=g)
        for i, start in enumerate(range(0, len(order), self.batch_size)):
            idx = order[start : start + self.batch_size]
            x = self.x[idx] + 0.01 * torch.randn(len(idx), 3, 8, 8, generator=g)
            if self.nan_at is not None and (self.epoch, i) >= (self.nan_at, 0):
                x = x * float("nan")
            yield x, self.y[idx]


def write_checkpoint(model: nn.Module, folder: Path, config: dict[str, Any]) -> None:
    """Stand-in for convlens.models.save_checkpoint in trainer-level tests."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "model.safetensors") as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    write_json_atomic(folder / "config.json", json.loads(json.dumps(config, default=str)))
