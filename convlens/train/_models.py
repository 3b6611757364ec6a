"""Models for a run: built per mode from ``convlens.models``, checkpointed, and loaded back for evaluation."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import nn

from convlens._console import err_console
from convlens._io import atomic_path, write_json_atomic
from convlens.errors import CheckpointError
from convlens.train.config import TrainConfig
from convlens.train.metrics import num_outputs
from convlens.train.resume import read_run_config
from convlens.train.transfer import (
    DenseHead,
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
        return models.create(
            config.base, num_classes=n_out, pretrained=use_weights, input_size=input_size(config), **kwargs
        )
    if config.dropout > 0:
        kwargs["dropout"] = config.dropout
    return models.create(config.model, num_classes=n_out, input_size=input_size(config), **kwargs)


def transfer_model(config: TrainConfig, n_out: int, pretrained: bool | None = None) -> FeatureClassifier:
    """The base + the book's dense head (flatten/pool -> 256 -> Dropout -> logits)."""
    base = create_model(config, n_out, pretrained)
    return with_dense_head(base, n_out, input_size(config), dropout=config.dropout or 0.5)


def build_model(config: TrainConfig, splits: Any, kind: str) -> nn.Module:
    """The model of a scratch, frozen or fine-tuning run, with the right parameters trainable."""
    n_out = num_outputs(kind, len(splits.classes))
    if config.mode == "scratch":
        model = create_model(config, n_out)
        if config.init_from:
            load_weights(model, Path(config.init_from))
        return model
    model = transfer_model(config, n_out)
    if config.init_from:
        load_weights(model, Path(config.init_from))
    if config.mode == "frozen":
        before, after = freeze_base(model)
        err_console.print(
            f"trainable weight tensors: {before} before freezing the base, {after} after", highlight=False
        )
    else:
        freeze_base(model)
        before = trainable_tensors(model)
        unfrozen = unfreeze_from(model, config.unfreeze_from or "")
        err_console.print(
            f"fine-tuning {len(unfrozen)} layers from {config.unfreeze_from}: trainable weight tensors "
            f"{before} -> {trainable_tensors(model)}",
            highlight=False,
        )
    return model


def load_weights(model: nn.Module, run_dir: Path) -> None:
    """Start from another run of the same network: a whole model, or only the head of a ``features`` run."""
    path = run_dir / "model.safetensors"
    if not path.is_file():
        raise CheckpointError(
            f"--init-from {run_dir} holds no model.safetensors; give the folder of a finished run"
        )
    target = (
        model.head
        if isinstance(model, FeatureClassifier) and read_run_config(run_dir).get("mode") == "features"
        else model
    )
    missing, unexpected = target.load_state_dict(load_file(str(path)), strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"--init-from {run_dir} is a run of another network (missing {missing[:3]}, unexpected {unexpected[:3]}); "
            f"fine-tune from a features or frozen run of the same --base and --image-size"
        )


def run_config(config: TrainConfig, splits: Any, kind: str, **extra: Any) -> dict[str, Any]:
    """What ``config.json`` records: how to rebuild the model, the classes, and the training options."""
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
        "skipped": [{"path": str(item.path), "reason": item.reason} for item in splits.skipped],
        **extra,
    }


def write_checkpoint(model: nn.Module, folder: Path, config: dict[str, Any]) -> None:
    """A registered model through ``convlens.models.save_checkpoint``; base + dense head as a plain state dict."""
    if isinstance(model, (FeatureClassifier, DenseHead)):
        write_module(model, folder, config)
        return
    from convlens.models import save_checkpoint

    save_checkpoint(model, folder, config)


def write_module(model: nn.Module, folder: Path, config: dict[str, Any]) -> None:
    """``model.safetensors`` (the module's state dict) and ``config.json``, each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "model.safetensors") as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))
    write_json_atomic(folder / "config.json", config)


def load_run(run_dir: str | Path, best: bool = False) -> tuple[nn.Module, dict[str, Any]]:
    """The trained model of a run folder and its ``config.json``.

    Args:
        run_dir: a run folder written by ``convlens train`` (or its ``model.safetensors``), or a folder of
            :func:`convlens.models.save_checkpoint`.
        best: load ``best/`` (lowest validation loss) instead of the last epoch.
    """
    run_dir = Path(run_dir)
    if run_dir.is_file():
        run_dir = run_dir.parent
    folder = run_dir / "best" if best else run_dir
    config = read_run_config(folder)
    mode = config.get("mode", "scratch")
    if mode != "scratch":
        train_config = TrainConfig.from_dict({**config["train"], "resume": False})
        # a features run stores only the head: its base comes from the pretrained weights
        model = transfer_model(train_config, config["num_classes"], pretrained=(mode == "features"))
        target = model.head if mode == "features" else model
        target.load_state_dict(load_file(str(folder / "model.safetensors")))
        return model.eval(), config
    from convlens.models import load_checkpoint

    model, saved = load_checkpoint(folder)
    return model, {**config, **saved}
