"""Models for a run: built per mode from ``convlens.models``, started from another run when asked."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from torch import nn

from convlens import _reporting
from convlens.errors import CheckpointError, ConfigError
from convlens.labels import num_outputs
from convlens.models._base import check_input_size
from convlens.runs import RunDir, saved_inputs
from convlens.train.config import TrainConfig
from convlens.train.init import INITS
from convlens.train.normalize import apply_normalization
from convlens.train.transfer import (
    FeatureClassifier,
    freeze_base,
    trainable_tensors,
    unfreeze_from,
    with_dense_head,
)

log = logging.getLogger(__name__)


def input_size(config: TrainConfig) -> tuple[int, int, int]:
    """``(C, H, W)`` the model is built for."""
    return (config.channels, config.image_size, config.image_size)


def create_model(config: TrainConfig, n_out: int, pretrained: bool | None = None) -> nn.Module:
    """``convlens.models.create`` for this config: the base (pretrained by default) or the scratch model."""
    from convlens import models

    kwargs = dict(config.model_kwargs)
    if config.base:
        use_weights = config.pretrained if pretrained is None else pretrained
        if "include_top" in inspect.signature(models.registry.get(config.base)).parameters:
            kwargs.setdefault("include_top", False)  # the conv base alone, as Keras' include_top=False
        base = models.create(
            config.base, num_classes=n_out, pretrained=use_weights, input_size=input_size(config), **kwargs
        )
        check_input_size(base, input_size(config), config.base)
        return base
    if config.dropout > 0:
        kwargs["dropout"] = config.dropout
    try:
        model = models.create(config.model, num_classes=n_out, input_size=input_size(config), **kwargs)
    except TypeError as exc:
        raise ConfigError(
            f"{config.model} does not take {sorted(kwargs)} ({exc}); drop the option (--dropout is for "
            f"small_convnet, mnist_tf and the transfer heads)"
        ) from None
    except RuntimeError:  # a head sized from the input (flatten) cannot be built that small
        smallest = _smallest_buildable(config, n_out, kwargs)
        raise ConfigError(
            f"{config.model} cannot run at {config.image_size}x{config.image_size} (the smallest it takes is "
            f"{smallest} px); choose a larger --image-size"
        ) from None
    check_input_size(model, input_size(config), config.model)
    return model


def _smallest_buildable(config: TrainConfig, n_out: int, kwargs: dict[str, Any]) -> int:
    from convlens import models

    def builds(side: int) -> bool:
        try:
            models.create(config.model, num_classes=n_out, input_size=(config.channels, side, side), **kwargs)
        except RuntimeError:
            return False
        return True

    low, high = config.image_size + 1, 1024
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if builds(mid) else (mid + 1, high)
    return low


def transfer_model(config: TrainConfig, n_out: int, pretrained: bool | None = None) -> FeatureClassifier:
    """The base + the book's dense head (flatten/pool -> 256 -> Dropout -> logits)."""
    base = create_model(config, n_out, pretrained)
    model = with_dense_head(base, n_out, input_size(config), dropout=config.dropout or 0.5)
    # a run sees photos as training fed them: the whole photo resized (bilinear), not the base's ImageNet crop
    model.pretrained_cfg.update(input_size=input_size(config), crop_pct=1.0, interpolation="bilinear")
    return model


def build_model(config: TrainConfig, splits: Any, kind: str) -> nn.Module:
    """The model of a scratch, frozen or fine-tuning run, with the right parameters trainable."""
    n_out = num_outputs(kind, len(splits.classes))
    if config.mode == "scratch":
        model = create_model(config, n_out)
        if config.init_from:
            load_weights(model, RunDir(config.init_from))
        else:
            INITS[config.init](model)
            apply_normalization(model, config.normalize, splits)
        return model
    model = transfer_model(config, n_out)
    if config.init_from:
        load_weights(model, RunDir(config.init_from))
    if config.mode == "frozen":
        before, after = freeze_base(model)
        _reporting.message(f"trainable weight tensors: {before} before freezing the base, {after} after")
    else:
        freeze_base(model)
        before = trainable_tensors(model)
        unfrozen = unfreeze_from(model, config.unfreeze_from or "")
        _reporting.message(
            f"fine-tuning {len(unfrozen)} layers from {config.unfreeze_from}: trainable weight tensors "
            f"{before} -> {trainable_tensors(model)}"
        )
    return model


def load_weights(model: nn.Module, run: RunDir) -> None:
    """Start from another run of the same network: a whole model, or only the head of an older features run."""
    if not run.weights_path.is_file():
        raise CheckpointError(
            f"--init-from {run.path} holds no model.safetensors; give the folder of a finished run"
        )
    state = run.read_weights()
    head_only = isinstance(model, FeatureClassifier) and not any(
        k.startswith(("base.", "head.")) for k in state
    )
    target = model.head if head_only else model
    try:
        missing, unexpected = target.load_state_dict(state, strict=False)
    except RuntimeError:
        missing, unexpected = ["(shapes differ)"], []
    if missing or unexpected:
        raise CheckpointError(
            f"--init-from {run.path} is a run of another network (missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}); fine-tune from a features or frozen run of the same --base and --image-size"
        )
    model.pretrained_cfg.update(saved_inputs(run.read_config()))  # the weights expect these inputs


def run_config(config: TrainConfig, splits: Any, kind: str, **extra: Any) -> dict[str, Any]:
    """What ``config.json`` records: how to rebuild the model, the classes, the data and the options."""
    return {
        "model": config.model_name,
        "num_classes": num_outputs(kind, len(splits.classes)),
        "input_size": list(input_size(config)),
        "model_kwargs": ({"dropout": config.dropout} if config.dropout > 0 else {})
        | dict(config.model_kwargs),
        "classes": list(splits.classes),
        "label_mode": kind,
        "mode": config.mode,
        "train": config.to_dict(),
        "counts": {name: dataset.class_counts() for name, dataset in splits.items()},
        "skipped": [{"path": str(item.path), "reason": item.reason} for item in splits.skipped],
        **extra,
    }


def parameter_counts(model: nn.Module, tensors_before: int | None = None) -> dict[str, int]:
    """Trainable and frozen parameters and weight tensors (the report's header)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    counts = {"params": trainable, "frozen_params": total - trainable, "tensors": trainable_tensors(model)}
    if tensors_before is not None:
        counts["tensors_before"] = tensors_before
    return counts
