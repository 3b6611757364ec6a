"""Run under torchrun by test_distributed.py: a tiny DDP training whose ranks record their weights."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from convlens.data import ArrayDataset, BatchLoader
from convlens.train import distributed as dist_utils
from convlens.train._device import resolve_precision
from convlens.train.metrics import LossFn
from convlens.train.trainer import Trainer


def main(out: Path) -> None:
    dist_utils.init_from_env()
    torch.manual_seed(0)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    rng = np.random.default_rng(0)
    labels = np.arange(12) % 2
    images = (rng.random((12, 8, 8, 3)) * 100 + labels[:, None, None, None] * 120).astype(np.uint8)
    dataset = ArrayDataset(images, labels, ["a", "b"])
    loader = dist_utils.ShardedLoader(
        dataset,
        lambda ds, idx: BatchLoader(ds, batch_size=2, shuffle=True, seed=dist_utils.rank(), indices=idx),
        True,
        0,
    )
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 1)
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    trainer = Trainer(
        model, opt, LossFn("binary"), loader, None, 2, resolve_precision("fp32", torch.device("cpu"))
    )
    history = trainer.fit()
    rank = dist_utils.rank()
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, str(out / f"rank{rank}.safetensors")
    )
    shard = loader.shard_indices().tolist()
    (out / f"rank{rank}.json").write_text(
        json.dumps({"shard": shard, "history": history, "world": dist_utils.world_size()})
    )
    dist_utils.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
