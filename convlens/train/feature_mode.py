"""``--mode features``: extract (or reuse) the base's features per split, then train the dense head on them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens.train import _build, _models
from convlens.train import distributed as dist_utils
from convlens.train._device import Precision
from convlens.train.config import TrainConfig
from convlens.train.features import FeatureCache, FeatureLoader, data_digest, extract_features, weights_digest
from convlens.train.metrics import LossFn, num_outputs
from convlens.train.resume import restore
from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)

EXTRACT_BATCH = 50


def split_features(
    config: TrainConfig, base: nn.Module, splits: Any, precision: Precision, pool: bool = False
) -> dict[str, torch.Tensor]:
    """Features of every split, from the cache when present (rank 0 extracts, the other ranks wait and read)."""
    from convlens.data import BatchLoader

    cache, norm = FeatureCache(), _build.normalisation(base)
    weights = weights_digest(base)
    out = {}
    for name, dataset in splits.items():
        key = FeatureCache.key(
            base=config.base,
            weights=weights,
            data=data_digest(dataset),
            size=config.image_size,
            channels=config.channels,
            precision=precision.name,
            pooled=pool,
        )
        if dist_utils.is_main_process() and not cache.path(key).is_file():
            loader = BatchLoader(dataset, batch_size=EXTRACT_BATCH, mean=norm["mean"], std=norm["std"])
            cache.put(key, extract_features(base, loader, precision, progress=config.progress, pool=pool))
        dist_utils.broadcast_object(None)  # a barrier: the cache file exists from here on
        out[name] = cache.get(key)
    return out


def fit_on_features(
    config: TrainConfig, splits: Any, kind: str, precision: Precision, run_dir: Path
) -> tuple[Trainer, nn.Module]:
    """Train ``DenseHead`` on cached features; returns the trainer and the base + head model."""
    model = _models.transfer_model(config, num_outputs(kind, len(splits.classes)))
    base, head = model.base.to(precision.device), model.head.to(precision.device)
    if precision.channels_last:
        base = base.to(memory_format=torch.channels_last)
    features = split_features(config, base, splits, precision, pool=not head.flatten)
    run_config = _models.run_config(config, splits, kind)
    callbacks = _build.make_callbacks(config, run_dir, _models.write_module, run_config)
    train_loader = FeatureLoader(features["train"], splits.train.labels, config.batch_size, True, config.seed)
    val = splits.validation
    val_loader = (
        FeatureLoader(features["validation"], val.labels, config.batch_size) if val is not None else None
    )
    trainer = Trainer(
        head,
        _build.make_optimizer(config, head),
        LossFn(kind),
        train_loader,
        val_loader,
        config.epochs,
        precision,
        callbacks,
    )
    if config.resume:
        restore(trainer, run_dir)
    trainer.fit()
    return trainer, model.eval()
