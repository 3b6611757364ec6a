"""``--target-accuracy``: stop once validation accuracy reaches a target, then restore the best checkpoint."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from torch import nn

from convlens import _reporting
from convlens.runs import RunDir
from convlens.train.callbacks import as_run
from convlens.train.events import Callback

if TYPE_CHECKING:
    from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


class TargetAccuracy(Callback):
    """Stops training after the first epoch whose ``val_acc`` (``acc`` without validation) is ≥ ``target``."""

    order = 20

    def __init__(self, target: float) -> None:
        self.target = target

    def after_epoch(self, trainer: Trainer) -> None:
        key = "val_acc" if "val_acc" in trainer.logs else "acc"
        if trainer.logs[key] >= self.target:
            log.info("%s %.4f reached the target %.4f", key, trainer.logs[key], self.target)
            trainer.should_stop = True


class RestoreBest(Callback):
    """When training ends, the run's weights (``model.safetensors``, and the model in memory) become those of
    ``best/``, the epoch with the lowest validation loss (as Keras' ``restore_best_weights``).

    Runs after :class:`~convlens.train.callbacks.Checkpoint` (order 90), so ``best/`` is complete. The resume
    state keeps the last epoch, so ``--resume`` with more epochs continues from where training stopped.

    Args:
        run: the run folder.
        model: what the checkpoints hold when it is more than the trained module (``features`` runs).
    """

    order = 92
    rank_zero_only = True

    def __init__(self, run: RunDir | str | os.PathLike[str], model: nn.Module | None = None) -> None:
        self.run = as_run(run)
        self.model = model

    def after_fit(self, trainer: Trainer) -> None:
        best = self.run.best
        if not best.weights_path.is_file():
            return
        model = self.model if self.model is not None else trainer.module
        model.load_state_dict(best.read_weights())
        config = best.read_config()
        self.run.write_checkpoint(model, config)
        _reporting.message(
            f"restored the best checkpoint (epoch {config.get('epoch')}, lowest validation loss)"
        )
