"""``--resume``: restore weights, optimizer, RNG, epoch, history and callback states from a run folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from safetensors.torch import load_file

from convlens.errors import CheckpointError, TrainingError
from convlens.train.config import TrainConfig
from convlens.train.state import load_state, restore_rng, unflatten_optimizer
from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


def check_resume_config(run_dir: Path, config: TrainConfig) -> None:
    """Refuse to resume with options that change what is trained (epochs may grow)."""
    saved = read_run_config(run_dir).get("train")
    if saved is None:
        raise CheckpointError(
            f"{run_dir / 'config.json'} has no training options; it was not written by convlens train"
        )
    diff = config.differences(TrainConfig.from_dict(saved))
    if diff:
        listed = "; ".join(
            f"--{k.replace('_', '-')} was {old!r}, now {new!r}" for k, (old, new) in diff.items()
        )
        raise TrainingError(
            f"cannot resume {run_dir} with different options ({listed}); resume with the same options "
            f"(only --epochs may change) or train into a new --out"
        )


def read_run_config(run_dir: Path) -> dict:
    """The ``config.json`` of a run folder."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise CheckpointError(
            f"{run_dir} holds no config.json; give the folder of a convlens run (its --out)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def restore(trainer: Trainer, run_dir: Path) -> None:
    """Put ``trainer`` back in the state saved at the end of the last finished epoch."""
    info, tensors = load_state(run_dir)
    weights = load_file(str(run_dir / "model.safetensors"))
    missing, unexpected = trainer.module.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{run_dir / 'model.safetensors'} does not match the model (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}); resume with the same --model"
        )
    trainer.optimizer.load_state_dict(unflatten_optimizer(tensors, info["optimizer"]))
    restore_rng(tensors, info["rng"])
    trainer.history = list(info["history"])
    trainer.start_epoch = int(info["epoch"])
    states = info.get("callbacks", {})
    for callback in trainer.callbacks:
        if type(callback).__name__ in states:
            callback.load_state_dict(states[type(callback).__name__])
    log.info("resumed %s after epoch %d", run_dir, trainer.start_epoch)
