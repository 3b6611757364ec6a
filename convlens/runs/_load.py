"""Loading the model of a run folder of any training mode — the one checkpoint reader."""

from __future__ import annotations

import os
from typing import Any

from convlens.errors import CheckpointError, ConfigError, ConvlensError
from convlens.runs.rundir import RunDir


def load_run(run: str | os.PathLike[str] | RunDir, best: bool = False) -> tuple[Any, dict[str, Any]]:
    """The trained model (eval mode, on the CPU) of a run folder, and its ``config.json``.

    Args:
        run: a run folder written by ``convlens train`` (or its ``model.safetensors``), or a folder written by
            :func:`convlens.models.save_checkpoint`.
        best: load ``best/`` (lowest validation loss) instead of the last epoch.

    Only the run's own weights are loaded: nothing is downloaded, whatever ``config.json`` says (runs of the
    ``features`` mode written before checkpoints held the base need the base's weights on disk).

    Raises:
        CheckpointError: the folder is not a run, or its files are damaged or do not match each other.
    """
    run = run if isinstance(run, RunDir) else RunDir(run)
    folder = run.best if best else run
    config = folder.read_config()
    state = folder.read_weights()
    try:
        if config.get("mode", "scratch") == "scratch":
            model = _registered(config)
        else:
            model = _transfer(config, state)
        _load_state(model, state, folder)
    except (TypeError, ValueError, ConfigError) as exc:
        raise CheckpointError(
            f"{folder.config_path} cannot rebuild its model ({exc}); re-run training"
        ) from None
    return model.eval(), config


def _registered(config: dict[str, Any]) -> Any:
    from convlens import models

    if not config.get("model"):
        raise CheckpointError("config.json has no 'model' entry; it was not written by convlens")
    model = models.create(
        config["model"],
        num_classes=config.get("num_classes"),
        input_size=config.get("input_size"),
        **(config.get("model_kwargs") or {}),
    )
    model.pretrained_cfg.update(saved_inputs(config))
    return model


def saved_inputs(config: dict[str, Any]) -> dict[str, Any]:
    """The input settings a run's weights expect (size, interpolation, mean/std), as ``config.json`` holds them."""
    saved = config.get("pretrained_cfg") or {}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}


def _transfer(config: dict[str, Any], state: dict[str, Any]) -> Any:
    """Base + dense head; the base's pretrained weights only for a head-only (older) ``features`` run."""
    from convlens.models.weights import no_downloads
    from convlens.train._models import transfer_model
    from convlens.train.config import TrainConfig

    options = config.get("train")
    if not isinstance(options, dict):
        raise CheckpointError("config.json has no training options ('train'); it was not written by convlens")
    try:
        train_config = TrainConfig.from_dict({**options, "resume": False, "overwrite": False}, saved=True)
    except ConvlensError as exc:
        raise CheckpointError(f"config.json holds training options convlens cannot use ({exc})") from None
    head_only = not any(key.startswith("base.") for key in state)
    with no_downloads():
        return transfer_model(train_config, int(config.get("num_classes") or 1), pretrained=head_only)


def _load_state(model: Any, state: dict[str, Any], folder: RunDir) -> None:
    target = model.head if hasattr(model, "head") and not any(k.startswith("base.") for k in state) else model
    try:
        missing, unexpected = target.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise CheckpointError(
            f"{folder.weights_path} does not match the model in config.json: {str(exc).splitlines()[-1].strip()}"
        ) from None
    if missing or unexpected:
        raise CheckpointError(
            f"{folder.weights_path} does not match the model in config.json "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}); re-run training"
        )
