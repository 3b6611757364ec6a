"""The trainer's callbacks: NaN guard, history, early stopping, checkpoints, progress bars."""

from __future__ import annotations

import logging
import math
import os
import time
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from convlens import _reporting
from convlens.errors import TrainingError
from convlens.runs import RunDir
from convlens.train.events import Callback
from convlens.train.state import callback_tensors, training_state

if TYPE_CHECKING:
    from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


def as_run(run: RunDir | str | os.PathLike[str]) -> RunDir:
    return run if isinstance(run, RunDir) else RunDir(run)


class NanGuard(Callback):
    """Stops training with a clear message when the loss is not finite; the last good checkpoint stays."""

    order = 0

    def __init__(self, run: RunDir | str | os.PathLike[str]) -> None:
        self.run_dir = as_run(run).path

    def after_loss(self, trainer: Trainer) -> None:
        if trainer.loss is not None and not torch.isfinite(trainer.loss.detach()).all():
            kept = f"the last good checkpoint (epoch {trainer.epoch}) is kept in {self.run_dir}"
            if trainer.epoch == trainer.start_epoch == 0:
                kept = "no epoch had finished, so no checkpoint was written"
            raise TrainingError(
                f"the loss became {trainer.loss.item()} at epoch {trainer.epoch + 1}, batch {trainer.batch_index + 1}; "
                f"{kept}. Lower --lr, check the inputs for NaN, or try --precision fp32"
            )


class History(Callback):
    """Writes ``history.csv`` (one row per epoch) and ``history.json`` after every epoch.

    The first epoch after ``--resume`` carries ``"resumed": true`` (the curves mark it).
    """

    order = 10
    rank_zero_only = True

    def __init__(self, run: RunDir | str | os.PathLike[str]) -> None:
        self.run = as_run(run)
        self._resumed = False

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._resumed = True  # called only when a run is resumed

    @property
    def mark_pending(self) -> bool:
        """Resumed, and no epoch has run since (the next epoch, maybe another phase's, carries the mark)."""
        return self._resumed

    def after_epoch(self, trainer: Trainer) -> None:
        if self._resumed:
            trainer.history[-1]["resumed"] = True
            self._resumed = False
        self.run.write_history(trainer.history)


def monitored(trainer: Trainer) -> tuple[str, float] | None:
    """``val_loss`` when the run validates, else the training ``loss``; ``None`` after an epoch that skipped
    validation (``--val-every``): nothing to judge by."""
    if trainer.skipped_validation():
        return None
    key = "val_loss" if "val_loss" in trainer.logs else "loss"
    return key, trainer.logs[key]


class EarlyStopping(Callback):
    """Stops when the monitored loss has not improved for ``patience`` epochs."""

    order = 20

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.wait = 0

    def after_epoch(self, trainer: Trainer) -> None:
        judged = monitored(trainer)
        if judged is None:
            return
        key, value = judged
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            log.info("early stopping: %s has not improved for %d epochs", key, self.wait)
            trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait = state["best"], state["wait"]


class Checkpoint(Callback):
    """Every epoch: the best model in ``best/``, the last in the run folder, then the resume state.

    Args:
        run: the run folder.
        config: the dict stored in ``config.json`` (model name, classes, training options).
        model: what the checkpoint holds when it is more than the trained module (a ``features`` run trains
            the dense head on cached features, and saves base + head).
    """

    order = 90
    rank_zero_only = True

    def __init__(
        self, run: RunDir | str | os.PathLike[str], config: dict[str, Any], model: nn.Module | None = None
    ) -> None:
        self.run = as_run(run)
        self.config = config
        self.model = model
        self.best = math.inf
        self._started = time.perf_counter()
        self._elapsed_before = 0.0

    def before_fit(self, trainer: Trainer) -> None:
        self._started = time.perf_counter()

    def after_epoch(self, trainer: Trainer) -> None:
        judged = monitored(trainer)
        wall = self._elapsed_before + time.perf_counter() - self._started
        config = {
            **self.config,
            "epoch": trainer.epoch + 1,
            "metrics": trainer.logs,
            "wall_time_s": round(wall, 1),
        }
        model = self.model if self.model is not None else trainer.eval_module
        if judged is not None and judged[1] < self.best:
            self.best = judged[1]
            self.run.best.path.mkdir(parents=True, exist_ok=True)
            self.run.best.write_checkpoint(model, config)
        self.run.write_checkpoint(model, config)
        tensors, meta = training_state(trainer.optimizer)
        tensors.update(callback_tensors(trainer.callbacks))
        info = {
            "epoch": trainer.epoch + 1,
            "history": trainer.history,
            "callbacks": {type(cb).__name__: cb.state_dict() for cb in trainer.callbacks},
            **meta,
        }
        self.run.state().save(trainer.module.state_dict(), tensors, info)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wall_time_s": self._elapsed_before + time.perf_counter() - self._started}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
        self._elapsed_before = float(state.get("wall_time_s", 0.0))


class BaseInInferenceMode(Callback):
    """Runs a transfer model's base in inference mode while it trains: batch-norm running statistics kept (in
    the unfrozen blocks too), no dropout or stochastic depth in the base; see
    :func:`~convlens.train.transfer.base_in_inference_mode`."""

    def before_epoch(self, trainer: Trainer) -> None:
        from convlens.train.transfer import base_in_inference_mode

        base_in_inference_mode(trainer.module)


class ProgressBar(Callback):
    """A progress bar per epoch with the running loss, then a Keras-like line: time, step time, metrics."""

    order = 95
    rank_zero_only = True

    def __init__(self) -> None:
        self._task: Any = None
        self._loss_sum = 0.0
        self._started = 0.0

    def before_epoch(self, trainer: Trainer) -> None:
        label = f"epoch {trainer.epoch + 1}/{trainer.epochs}"
        self._task = _reporting.task(label, len(trainer.train_loader))
        self._loss_sum = 0.0
        self._started = time.perf_counter()

    def after_batch(self, trainer: Trainer) -> None:
        self._loss_sum += float(trainer.loss.detach())
        info = f"loss {self._loss_sum / (trainer.batch_index + 1):.4f}"
        last = trainer.batch_index + 1 == len(trainer.train_loader)
        if last and trainer.val_loader is not None and trainer.validates(trainer.epoch):
            info += "  validating…"  # the bar stays at N/N while the validation pass runs
        self._task.advance(1, info=info)

    def after_validate(self, trainer: Trainer) -> None:
        self.close()

    def close(self) -> None:
        if self._task is not None:
            self._task.close()
            self._task = None

    def after_epoch(self, trainer: Trainer) -> None:
        seconds = time.perf_counter() - self._started
        steps = max(1, len(trainer.train_loader))
        parts = [
            f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}"
            for k, v in trainer.logs.items()
            if k != "epoch" and isinstance(v, float)
        ]
        if "phase" in trainer.logs:
            parts.insert(0, str(trainer.logs["phase"]))
        _reporting.message(
            f"epoch {trainer.epoch + 1}/{trainer.epochs}  {seconds:.1f}s  {1000 * seconds / steps:.0f}ms/step  "
            + "  ".join(parts)
        )
