"""``--mode finetune`` the book's way: train the dense head on cached features first, then unfreeze the base
from ``--unfreeze-from`` on and train end to end at the fine-tuning rate.

A fine-tuning run from a random head at lr 1e-5 spends its first (and most expensive) epochs teaching the head
what the cached-features head learns in seconds, and large gradients from a random head disturb the pretrained
blocks. So without ``--init-from``, ``head_epochs`` epochs train the head on cached features (as ``--mode
features``, at :data:`~convlens.train.defaults.HEAD_LR`), then ``epochs`` epochs fine-tune the same model. One run
folder, one history (a ``phase`` column: ``head``, ``finetune``), one ``config.json`` (``phases``); ``--resume``
continues in either phase.

Throughout, the base runs in inference mode (:func:`~convlens.train.transfer.base_in_inference_mode`): every
batch-norm layer keeps its ImageNet statistics, the unfrozen ones' scales and shifts still train, and stochastic
depth is off; only the dense head's dropout is on.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import torch
from torch import nn

from convlens import _reporting
from convlens.labels import num_outputs
from convlens.runs import RunDir
from convlens.train import _build, _models
from convlens.train._device import Precision
from convlens.train.callbacks import BaseInInferenceMode
from convlens.train.config import TrainConfig
from convlens.train.defaults import HEAD_LR
from convlens.train.events import Callback
from convlens.train.features import FeatureLoader
from convlens.train.tail import TailClassifier, cached_activations, tail_for
from convlens.train.trainer import Trainer
from convlens.train.transfer import FeatureClassifier, freeze_base, trainable_tensors, unfreeze_from

log = logging.getLogger(__name__)


class Phase(Callback):
    """Adds the ``phase`` column (``head`` or ``finetune``) to each epoch's history row."""

    order = 5

    def __init__(self, name: str) -> None:
        self.name = name

    def before_epoch(self, trainer: Trainer) -> None:
        trainer.logs["phase"] = self.name


def phases(config: TrainConfig) -> list[dict[str, Any]]:
    """What ``config.json`` records about the two phases (epochs are 1-based and inclusive)."""
    head, total = config.head_epochs or 0, total_epochs(config)
    return [
        {"phase": "head", "epochs": [1, head], "lr": HEAD_LR, "trains": "the dense head, on cached features"},
        {
            "phase": "finetune",
            "epochs": [head + 1, total],
            "lr": config.lr,
            "trains": f"the base from {config.unfreeze_from} on and the head, end to end",
        },
    ]


def total_epochs(config: TrainConfig) -> int:
    """The last epoch of the run: head epochs + fine-tuning epochs."""
    return (config.head_epochs or 0) + (config.epochs or 0)


def fit_finetune(
    config: TrainConfig, splits: Any, kind: str, precision: Precision, run: RunDir, extra: dict[str, Any]
) -> tuple[Trainer, nn.Module]:
    """The head on cached features for ``head_epochs``, then fine-tuning for ``epochs`` (resumable in both)."""
    from convlens.train.feature_mode import head_on_features

    extra = {**extra, "phases": phases(config)}
    model = _models.transfer_model(config, num_outputs(kind, len(splits.classes))).to(precision.device)
    if precision.channels_last:
        model = model.to(memory_format=torch.channels_last)
    tail = tail_for(model, config, splits)
    activations = cached_activations(config, model, tail, splits, precision) if tail is not None else None
    head = None
    if not config.resume or resumed_epoch(run) <= (config.head_epochs or 0):
        head_config = config.replace(epochs=config.head_epochs, lr=HEAD_LR)
        model, loaders, counts = head_on_features(head_config, splits, kind, precision, model=model)
        run_config = _models.run_config(config, splits, kind, trainable=counts, **extra)
        head = _build.fit(
            head_config,
            run,
            model.head,
            loaders,
            kind,
            precision,
            run_config,
            saved=model,
            extra=[Phase("head")],
        )
    # after the head phase (or resuming after it): the fine-tuning state restores every weight
    return _fine_tune(config, splits, kind, precision, run, extra, model, tail, activations, head)


def _fine_tune(
    config: TrainConfig,
    splits: Any,
    kind: str,
    precision: Precision,
    run: RunDir,
    extra: dict[str, Any],
    model: FeatureClassifier,
    tail: TailClassifier | None,
    activations: dict[str, torch.Tensor] | None,
    head: Trainer | None,
) -> tuple[Trainer, nn.Module]:
    """Unfreeze from ``unfreeze_from`` and train (on cached activations when ``tail``); continues ``head``'s
    history and best checkpoint."""
    tensors_before = sum(1 for _ in model.parameters())
    freeze_base(model)
    frozen = trainable_tensors(model)
    unfrozen = unfreeze_from(model, config.unfreeze_from or "")
    how = "on cached activations" if tail is not None else "end to end"
    _reporting.message(
        f"fine-tuning {len(unfrozen)} layers from {config.unfreeze_from} ({how}): trainable weight tensors "
        f"{frozen} -> {trainable_tensors(model)}"
    )
    trained, loaders = _trained_and_loaders(config, splits, precision, model, tail, activations)
    counts = _models.parameter_counts(model, tensors_before)
    run_config = _models.run_config(config, splits, kind, trainable=counts, **extra)
    tune_config = config.replace(epochs=total_epochs(config), resume=head is None)
    callbacks = [BaseInInferenceMode(), Phase("finetune")]
    trainer = _build.fit(
        tune_config,
        run,
        trained,
        loaders,
        kind,
        precision,
        run_config,
        saved=model,
        extra=callbacks,
        carry=head,
    )
    return trainer, model.eval()


def _trained_and_loaders(
    config: TrainConfig,
    splits: Any,
    precision: Precision,
    model: FeatureClassifier,
    tail: TailClassifier | None,
    activations: dict[str, torch.Tensor] | None,
) -> tuple[nn.Module, tuple[Any, Any]]:
    """What the trainer runs and its loaders: the tail on cached activations, or the whole model on images."""
    val = splits.validation
    if tail is not None and activations is not None:
        train_loader = FeatureLoader(
            activations["train"], splits.train.labels, config.batch_size, True, config.seed
        )
        val_loader = FeatureLoader(activations["validation"], val.labels, config.batch_size) if val else None
        return tail, (train_loader, val_loader)
    norm = _build.normalisation(model)
    return model, (
        _build.make_loader(config, splits.train, True, norm, precision),
        _build.make_loader(config, val, False, norm, precision) if val else None,
    )


def resumed_epoch(run: RunDir) -> int:
    """The last finished epoch of the run's resume state (0 when unreadable: restoring then says why)."""
    from convlens.runs._files import STATE_JSON

    try:
        return int(json.loads((run.path / STATE_JSON).read_text(encoding="utf-8"))["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0
