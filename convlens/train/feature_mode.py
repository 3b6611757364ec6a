"""``--mode features``: extract (or reuse) the base's features per split, then train the dense head on them."""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from convlens.labels import num_outputs
from convlens.runs import RunDir
from convlens.train import _build, _models
from convlens.train import distributed as dist_utils
from convlens.train._device import Precision
from convlens.train.config import TrainConfig
from convlens.train.features import FeatureCache, FeatureLoader, data_digest, extract_features, weights_digest
from convlens.train.trainer import Trainer
from convlens.train.transfer import FeatureClassifier, set_trainable

log = logging.getLogger(__name__)

EXTRACT_BATCH = 50


def split_features(
    config: TrainConfig,
    base: nn.Module,
    splits: Any,
    precision: Precision,
    pool: bool = False,
    names: tuple[str, ...] = ("train", "validation"),
) -> dict[str, torch.Tensor]:
    """Features of the splits ``names`` (training needs no test features), from the cache when present (rank 0
    extracts, the other ranks wait and read)."""
    from convlens.data import BatchLoader

    cache, norm = FeatureCache(), _build.normalisation(base)
    weights = weights_digest(base)
    out = {}
    for name, dataset in splits.items():
        if name not in names:
            continue
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
    config: TrainConfig, splits: Any, kind: str, precision: Precision, run: RunDir, extra: dict[str, Any]
) -> tuple[Trainer, nn.Module]:
    """Train ``DenseHead`` on cached features; checkpoints hold base + head, so a run needs no other weights."""
    model, loaders, counts = head_on_features(config, splits, kind, precision)
    run_config = _models.run_config(config, splits, kind, trainable=counts, **extra)
    trainer = _build.fit(config, run, model.head, loaders, kind, precision, run_config, saved=model)
    return trainer, model.eval()


def head_on_features(
    config: TrainConfig, splits: Any, kind: str, precision: Precision, model: FeatureClassifier | None = None
) -> tuple[FeatureClassifier, tuple[FeatureLoader, FeatureLoader | None], dict[str, int]]:
    """The transfer model (base frozen, on the device), loaders of its cached features and the parameter counts."""
    if model is None:
        model = _models.transfer_model(config, num_outputs(kind, len(splits.classes)))
    tensors_before = sum(1 for _ in model.parameters())
    set_trainable(model.base, False)  # only the head learns; the base runs once per image, in eval mode
    base, head = model.base.to(precision.device), model.head.to(precision.device)
    if precision.channels_last:
        base = base.to(memory_format=torch.channels_last)
    features = split_features(config, base, splits, precision, pool=not head.flatten)
    counts = _models.parameter_counts(model, tensors_before)
    train_loader = FeatureLoader(features["train"], splits.train.labels, config.batch_size, True, config.seed)
    val = splits.validation
    val_loader = (
        FeatureLoader(features["validation"], val.labels, config.batch_size) if val is not None else None
    )
    return model, (train_loader, val_loader), counts
