"""Plain checkpoints of a registered model: ``model.safetensors`` + ``config.json`` (no training run around them).

Both functions go through :class:`convlens.runs.RunDir`, the one writer and reader of checkpoint folders;
nothing is ever unpickled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from torch import nn

from convlens.errors import CheckpointError


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
    from convlens.runs import RunDir

    if not (config.get("model") or getattr(model, "model_name", None)):
        raise CheckpointError(
            "config has no 'model' name; build the model with convlens.models.create or pass config['model']"
        )
    run = RunDir(run_dir)
    run.path.mkdir(parents=True, exist_ok=True)
    run.write_checkpoint(model, config)
    return run.path


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model from ``config.json`` and load ``model.safetensors`` (never unpickles).

    Returns:
        ``(model in eval mode, config)``.
    """
    from convlens.runs import load_run

    return load_run(path)
