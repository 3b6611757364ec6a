"""Our own checkpoints: ``model.safetensors`` + ``config.json``, written atomically, loaded without unpickling."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from convlens._io import atomic_path, write_json_atomic
from convlens.errors import CheckpointError

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def model_config(model: nn.Module) -> dict[str, Any]:
    """What rebuilding ``model`` needs: registry name, head size, input size, options, normalisation."""
    cfg = dict(getattr(model, "pretrained_cfg", {}) or {})
    return {
        "model": getattr(model, "model_name", None),
        "num_classes": cfg.get("num_classes"),
        "input_size": list(cfg["input_size"]) if cfg.get("input_size") else None,
        "model_kwargs": dict(getattr(model, "model_kwargs", {}) or {}),
        "pretrained_cfg": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items() if k != "labels"
        },
    }


def save_checkpoint(model: nn.Module, run_dir: str | os.PathLike[str], config: dict[str, Any]) -> Path:
    """Write ``run_dir/model.safetensors`` and ``run_dir/config.json`` atomically.

    Args:
        model: a model built by :func:`convlens.models.create`.
        run_dir: the folder (created when missing).
        config: extra fields (classes, label mode, training options); its keys win over the model's own.

    Returns:
        The folder written.
    """
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    merged = {**model_config(model), **{k: v for k, v in config.items() if v is not None}}
    if not merged.get("model"):
        raise CheckpointError(
            "config has no 'model' name; build the model with convlens.models.create or pass config['model']"
        )
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt", "model": str(merged["model"])})
    write_json_atomic(folder / CONFIG_FILE, merged)
    return folder


def read_config(path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """The run folder of ``path`` (a folder or its ``model.safetensors``) and its parsed ``config.json``."""
    folder = Path(path)
    folder = folder.parent if folder.is_file() else folder
    config_path = folder / CONFIG_FILE
    if not config_path.is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise CheckpointError(
            f"{folder} is not a checkpoint: expected {WEIGHTS_FILE} and {CONFIG_FILE} there (a run folder of `convlens train`)"
        )
    try:
        return folder, json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{config_path} is not valid JSON ({exc}); re-run training or restore the file"
        ) from None


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model from ``config.json`` and load ``model.safetensors`` (never unpickles).

    Returns:
        ``(model in eval mode, config)``.
    """
    from convlens.models._factory import create

    folder, config = read_config(path)
    if "model" not in config:
        raise CheckpointError(f"{folder / CONFIG_FILE} has no 'model' entry; it was not written by convlens")
    model = create(
        config["model"],
        num_classes=config.get("num_classes"),
        input_size=config.get("input_size"),
        **config.get("model_kwargs", {}),
    )
    try:
        state = load_file(str(folder / WEIGHTS_FILE))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{folder / WEIGHTS_FILE} is unreadable ({exc}); re-run training") from None
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise CheckpointError(
            f"{folder} does not match {config['model']}: {str(exc).splitlines()[-1].strip()}"
        ) from None
    if missing or unexpected:
        raise CheckpointError(
            f"{folder} does not match {config['model']}: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )
    saved = config.get("pretrained_cfg") or {}
    model.pretrained_cfg.update({k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})
    return model.eval(), config
