"""Models for a run: built per mode from ``convlens.models``, checkpointed, and loaded back for evaluation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from safetensors.torch import load_file
from torch import nn

from convlens._console import err_console
from convlens.errors import CheckpointError
from convlens.train.config import TrainConfig
from convlens.train.metrics import num_outputs
from convlens.train.resume import read_run_config
from convlens.train.transfer import freeze_base, trainable_tensors, unfreeze_from

log = logging.getLogger(__name__)


def input_size(config: TrainConfig) -> tuple[int, int, int]:
    """``(C, H, W)`` the model is built for."""
    return (config.channels, config.image_size, config.image_size)


def create_model(config: TrainConfig, n_out: int) -> nn.Module:
    """``convlens.models.create`` for this config (the base, pretrained, in transfer modes)."""
    from convlens import models

    kwargs = dict(config.model_kwargs)
    if config.dropout > 0:
        kwargs["dropout"] = config.dropout
    if config.base:
        return models.create(config.base, num_classes=n_out, pretrained=config.pretrained, input_size=input_size(config), **kwargs)
    return models.create(config.model, num_classes=n_out, input_size=input_size(config), **kwargs)


def build_model(config: TrainConfig, splits: Any, kind: str) -> nn.Module:
    """The model of a scratch, frozen or fine-tuning run, with the right parameters trainable."""
    model = create_model(config, num_outputs(kind, len(splits.classes)))
    if config.init_from:
        load_weights(model, Path(config.init_from))
    if config.mode == "frozen":
        before, after = freeze_base(model)
        err_console.print(f"trainable weight tensors: {before} before freezing the base, {after} after", highlight=False)
    elif config.mode == "finetune":
        before = trainable_tensors(model)
        unfrozen = unfreeze_from(model, config.unfreeze_from or "")
        after = trainable_tensors(model)
        err_console.print(
            f"fine-tuning {len(unfrozen)} layers from {config.unfreeze_from}: trainable weight tensors {before} -> {after}",
            highlight=False,
        )
    return model


def load_weights(model: nn.Module, run_dir: Path) -> None:
    """Start from the weights of another run of the same network (e.g. a ``frozen`` run)."""
    path = run_dir / "model.safetensors"
    if not path.is_file():
        raise CheckpointError(f"--init-from {run_dir} holds no model.safetensors; give the folder of a finished run")
    missing, unexpected = model.load_state_dict(load_file(str(path)), strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"--init-from {run_dir} is a run of another network (missing {missing[:3]}, unexpected {unexpected[:3]}); "
            f"fine-tune from a frozen run of the same --base"
        )


def run_config(config: TrainConfig, splits: Any, kind: str, **extra: Any) -> dict[str, Any]:
    """What ``config.json`` records: how to rebuild the model, the classes, and the training options."""
    return {
        "model": config.model_name,
        "num_classes": num_outputs(kind, len(splits.classes)),
        "input_size": list(input_size(config)),
        "model_kwargs": ({"dropout": config.dropout} if config.dropout > 0 else {}) | dict(config.model_kwargs),
        "classes": list(splits.classes),
        "label_mode": kind,
        "mode": config.mode,
        "train": config.to_dict(),
        **extra,
    }


def write_checkpoint(model: nn.Module, folder: Path, config: dict[str, Any]) -> None:
    """``convlens.models.save_checkpoint`` (model.safetensors + config.json, atomically)."""
    from convlens.models import save_checkpoint

    save_checkpoint(model, folder, config)


def load_run(run_dir: str | Path, best: bool = False) -> tuple[nn.Module, dict[str, Any]]:
    """The trained model of a run folder and its ``config.json``.

    Args:
        run_dir: a run folder written by ``convlens train``.
        best: load ``best/`` (lowest validation loss) instead of the last epoch.
    """
    folder = Path(run_dir) / "best" if best else Path(run_dir)
    config = read_run_config(folder)
    if config.get("mode") == "features":
        from convlens.train.feature_mode import load_feature_run

        return load_feature_run(folder, config), config
    from convlens.models import load_checkpoint

    model, saved = load_checkpoint(folder)
    return model, {**config, **saved}
