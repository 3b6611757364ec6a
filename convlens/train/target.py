"""``--target-accuracy``: stop once validation accuracy reaches a target; keep the best checkpoint that counts."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from torch import nn

from convlens import _reporting
from convlens.runs import RunDir
from convlens.train import distributed as dist_utils
from convlens.train.callbacks import as_run
from convlens.train.events import Callback

if TYPE_CHECKING:
    from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


class TargetAccuracy(Callback):
    """Stops after the first epoch whose ``val_acc`` (``acc`` without validation) is ≥ ``target`` (with
    ``--val-every``, the first validated one).

    When training ends the run's weights (``model.safetensors``, and the model in memory) are:

    - the epoch that reached the target, when one did. Training stops at the first such epoch, so it is the only
      checkpoint known to reach the target; ``best/`` (lowest validation loss) can be an earlier epoch below it
      (on MNIST with label smoothing, seed 1: epoch 4 at 98.97 % validation beat epoch 8 at 99.28 % by 1e-4 in
      loss).
    - otherwise ``best/``, the epoch with the lowest validation loss (Keras' ``restore_best_weights``).

    Runs after :class:`~convlens.train.callbacks.Checkpoint` (order 90), so ``best/`` is complete. The resume
    state keeps the last epoch, so ``--resume`` with more epochs continues from where training stopped.

    Args:
        run: the run folder.
        target: the accuracy to reach, a fraction.
        model: what the checkpoints hold when it is more than the trained module (``features`` runs).
    """

    order = 92
    rank_zero_only = False  # every rank must stop together; only rank 0 restores (it alone writes the run)

    def __init__(
        self, run: RunDir | str | os.PathLike[str], target: float, model: nn.Module | None = None
    ) -> None:
        self.run = as_run(run)
        self.target = target
        self.model = model
        self.reached = False

    def after_epoch(self, trainer: Trainer) -> None:
        if trainer.skipped_validation():  # --val-every: only a validated epoch can reach the target
            return
        key = "val_acc" if "val_acc" in trainer.logs else "acc"
        if trainer.logs[key] >= self.target:
            if dist_utils.is_main_process():
                _reporting.message(
                    f"{key} {trainer.logs[key]:.4f} reached the target {self.target}; stopping"
                )
            self.reached = trainer.should_stop = True

    def after_fit(self, trainer: Trainer) -> None:
        best = self.run.best
        if self.reached or not dist_utils.is_main_process() or not best.weights_path.is_file():
            return
        model = self.model if self.model is not None else trainer.module
        model.load_state_dict(best.read_weights())
        config = best.read_config()
        self.run.write_checkpoint(model, config)
        _reporting.message(
            f"the target {self.target} was not reached; restored the best checkpoint (epoch {config.get('epoch')}, "
            f"lowest validation loss)"
        )
