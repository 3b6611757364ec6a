"""``--resume``: restore weights, optimizer, RNG, epoch, history and callback states from a run folder."""

from __future__ import annotations

import logging
import os

from convlens.errors import CheckpointError, TrainingError
from convlens.runs import RunDir
from convlens.train.config import TrainConfig
from convlens.train.state import restore_rng, tensors_of, unflatten_optimizer
from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


def check_resume_config(run: RunDir, config: TrainConfig) -> None:
    """Refuse to resume with options that change what is trained (epochs may grow)."""
    saved = run.read_config().get("train")
    if saved is None:
        raise CheckpointError(
            f"{run.config_path} has no training options; it was not written by convlens train"
        )
    try:
        before = TrainConfig.from_dict({**saved, "out": str(run.path)}, saved=True)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{run.config_path} holds damaged training options ({exc})") from None
    diff = config.differences(before)
    if diff:
        listed = "; ".join(
            f"--{k.replace('_', '-')} was {old!r}, now {new!r}" for k, (old, new) in diff.items()
        )
        raise TrainingError(
            f"cannot resume {run.path} with different options ({listed}); resume with the same options "
            f"(only --epochs may change) or train into a new --out"
        )


def restore(trainer: Trainer, run: RunDir | str | os.PathLike[str]) -> None:
    """Put ``trainer`` back in the state saved at the end of the last finished epoch."""
    run = run if isinstance(run, RunDir) else RunDir(run)
    state = run.state()
    state.clean_orphans()
    info, tensors, weights = state.load()
    try:
        missing, unexpected = trainer.module.load_state_dict(weights, strict=False)
    except RuntimeError as exc:
        raise CheckpointError(
            f"the saved weights do not fit the model ({exc}); resume with the same --model"
        ) from None
    if missing or unexpected:
        raise CheckpointError(
            f"the saved weights of {run.path} do not match the model (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}); resume with the same --model"
        )
    try:
        trainer.optimizer.load_state_dict(unflatten_optimizer(tensors, info["optimizer"]))
        restore_rng(tensors, info["rng"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(
            f"{run.path}'s training state is damaged ({exc}); start again with --overwrite"
        ) from None
    trainer.history = list(info["history"])
    trainer.start_epoch = int(info["epoch"])
    states = info.get("callbacks", {})
    for callback in trainer.callbacks:
        name = type(callback).__name__
        if name in states:
            callback.load_state_dict(states[name])
        callback.load_state_tensors(tensors_of(callback, tensors))
    log.info("resumed %s after epoch %d", run.path, trainer.start_epoch)
