"""DDP under ``torchrun``: process group from the environment, sharded loaders, rank-0 side effects.

Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) every helper here is a cheap no-op.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

log = logging.getLogger(__name__)


def is_distributed() -> bool:
    """True inside an initialised process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 without DDP)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes (1 without DDP)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Rank 0 writes checkpoints, history and progress."""
    return rank() == 0


def init_from_env() -> int | None:
    """Join the process group that ``torchrun`` describes; return the local rank (``None`` without torchrun)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    if not is_distributed():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        log.info("joined process group: rank %d of %d (%s)", rank(), world_size(), backend)
    return int(os.environ.get("LOCAL_RANK", "0"))


def shutdown() -> None:
    """Leave the process group (after the last collective)."""
    if is_distributed():
        dist.barrier()
        dist.destroy_process_group()


def wrap_ddp(model: nn.Module, device: torch.device) -> nn.Module:
    """``DistributedDataParallel(model)`` inside a process group, else ``model`` itself."""
    if not is_distributed():
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place (identity without DDP)."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def any_rank(flag: bool, device: torch.device) -> bool:
    """True when ``flag`` is true on any rank, so that every rank stops together."""
    if not is_distributed():
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    return bool(all_reduce_sum(value).item() > 0)


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not is_distributed():
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


class ShardedLoader:
    """A DistributedSampler-equivalent over a batch-loader factory.

    Each epoch the indices are shuffled with ``seed + epoch`` (the same on every rank), padded by wrapping
    so that every rank gets the same number of samples, and split ``rank::world_size``.

    Args:
        dataset: an ``ArrayDataset`` (anything with ``len``).
        make_loader: ``(dataset, indices) -> loader`` over this rank's rows (``BatchLoader(..., indices=...)``).
        shuffle: shuffle indices each epoch.
        seed: base seed shared by all ranks.
    """

    def __init__(self, dataset: Any, make_loader: Any, shuffle: bool, seed: int) -> None:
        self.dataset = dataset
        self.make_loader = make_loader
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self._loader = self._build()

    def shard_indices(self) -> np.ndarray:
        """This rank's sample indices for the current epoch."""
        n, world = len(self.dataset), world_size()
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        per_rank = -(-n // world)
        order = np.resize(order, per_rank * world)
        return order[rank() :: world]

    def _build(self) -> Any:
        return self.make_loader(self.dataset, self.shard_indices())

    def set_epoch(self, epoch: int) -> None:
        """Reshard for ``epoch`` (every rank must call it with the same value)."""
        if epoch != self.epoch:
            self.epoch = epoch
            self._loader = self._build()
        self._loader.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self._loader)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._loader)
