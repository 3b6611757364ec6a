"""The trainer's callbacks: NaN guard, history, early stopping, checkpoints, progress bars."""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from convlens._console import err_console, make_progress
from convlens._io import write_json_atomic, write_text_atomic
from convlens.errors import TrainingError
from convlens.train.events import Callback
from convlens.train.state import save_state

if TYPE_CHECKING:
    from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)

CheckpointWriter = Callable[[nn.Module, Path, dict[str, Any]], None]
MODEL_FILES = ("model.safetensors", "config.json")


class NanGuard(Callback):
    """Stops training with a clear message when the loss is not finite; the last good checkpoint stays."""

    order = 0

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

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
    """Writes ``history.csv`` (one row per epoch) and ``history.json`` after every epoch."""

    order = 10
    rank_zero_only = True

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def after_epoch(self, trainer: Trainer) -> None:
        write_history(self.run_dir, trainer.history)


def write_history(run_dir: Path, history: list[dict[str, float]]) -> None:
    """Write ``history.csv`` and ``history.json`` atomically."""
    columns = list(dict.fromkeys(k for row in history for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(run_dir / "history.csv", buffer.getvalue())
    write_json_atomic(run_dir / "history.json", history)


def monitored(logs: dict[str, float]) -> tuple[str, float]:
    """``val_loss`` when there is validation, else the training ``loss``."""
    key = "val_loss" if "val_loss" in logs else "loss"
    return key, logs[key]


class EarlyStopping(Callback):
    """Stops when the monitored loss has not improved for ``patience`` epochs."""

    order = 20

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.wait = 0

    def after_epoch(self, trainer: Trainer) -> None:
        key, value = monitored(trainer.logs)
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
    """Every epoch: the last model in the run folder, the best one in ``best/``, then the training state.

    Args:
        run_dir: the run folder.
        writer: ``(model, folder, config) -> None`` that writes ``model.safetensors`` + ``config.json``.
        config: the dict stored in ``config.json`` (model name, classes, training options).
    """

    order = 90
    rank_zero_only = True

    def __init__(self, run_dir: Path, writer: CheckpointWriter, config: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.writer = writer
        self.config = config
        self.best = math.inf

    def after_epoch(self, trainer: Trainer) -> None:
        _key, value = monitored(trainer.logs)
        config = {**self.config, "epoch": trainer.epoch + 1, "metrics": trainer.logs}
        if value < self.best:
            self.best = value
            self.writer(trainer.module, self.run_dir / "best", config)
        self.writer(trainer.module, self.run_dir, config)
        info = {
            "epoch": trainer.epoch + 1,
            "history": trainer.history,
            "callbacks": {type(cb).__name__: cb.state_dict() for cb in trainer.callbacks},
        }
        save_state(self.run_dir, trainer.optimizer, info, guards=list(MODEL_FILES))

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]


class ProgressBar(Callback):
    """A rich bar per epoch with the running loss, then one line with loss / acc / val_loss / val_acc."""

    order = 95
    rank_zero_only = True

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None
        self._loss_sum = 0.0

    def before_epoch(self, trainer: Trainer) -> None:
        self._progress = make_progress(transient=True)
        self._progress.start()
        label = f"epoch {trainer.epoch + 1}/{trainer.epochs}"
        self._task = self._progress.add_task(label, total=len(trainer.train_loader), info="")
        self._loss_sum = 0.0

    def after_batch(self, trainer: Trainer) -> None:
        self._loss_sum += float(trainer.loss.detach())
        info = f"loss {self._loss_sum / (trainer.batch_index + 1):.4f}"
        self._progress.update(self._task, advance=1, info=info)

    def after_validate(self, trainer: Trainer) -> None:
        self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def after_epoch(self, trainer: Trainer) -> None:
        parts = [f"{k} {v:.4f}" for k, v in trainer.logs.items() if k != "epoch"]
        err_console.print(f"epoch {trainer.epoch + 1}/{trainer.epochs}  " + "  ".join(parts), highlight=False)
