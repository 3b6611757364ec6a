"""Learning-rate schedules ``--schedule`` can name, written once, and the callback that applies them per step.

A schedule is a factor of ``--lr`` at optimizer step ``s`` (0-based) of ``S = epochs × steps per epoch``, with
``W = warmup_epochs × steps per epoch`` warm-up steps:

- ``constant``: ``(s + 1) / W`` during the warm-up, then 1 (without warm-up: ``--lr`` throughout, as the book).
- ``cosine``: the same warm-up, then ``(1 + cos(π (s − W) / (S − W))) / 2``, from 1 down to 0 at the last step.
- ``onecycle``: torch's ``OneCycleLR`` with its defaults (Smith & Topin, 2018): from 1/25 at step 0 up to 1 at
  step ``U − 1`` along a half cosine (``U = W``, or 30 % of ``S`` without ``--warmup-epochs``), then down along a
  half cosine to 1/(25 · 10⁴) at the last step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from convlens.train.events import Callback

if TYPE_CHECKING:
    from convlens.train.trainer import Trainer

ONECYCLE_START, ONECYCLE_END, ONECYCLE_RISE = 1 / 25, 1 / 25 / 1e4, 0.3


def _half_cosine(start: float, end: float, t: float) -> float:
    """From ``start`` at t = 0 to ``end`` at t = 1."""
    return end + (start - end) * (1 + math.cos(math.pi * min(max(t, 0.0), 1.0))) / 2


def _constant(step: int, total: int, warmup: int) -> float:
    return (step + 1) / warmup if step < warmup else 1.0


def _cosine(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return _half_cosine(1.0, 0.0, (step - warmup) / max(1, total - 1 - warmup))


def _onecycle(step: int, total: int, warmup: int) -> float:
    # step indices as torch's OneCycleLR: the peak at step U - 1, the floor at the last step S - 1
    peak = (warmup or ONECYCLE_RISE * total) - 1
    if step <= peak and peak > 0:
        return _half_cosine(ONECYCLE_START, 1.0, step / peak)
    return _half_cosine(1.0, ONECYCLE_END, (step - max(peak, 0)) / max(1e-9, total - 1 - max(peak, 0)))


SCHEDULES: dict[str, Callable[[int, int, int], float]] = {
    "constant": _constant,
    "cosine": _cosine,
    "onecycle": _onecycle,
}


def lr_factor(name: str, step: int, total: int, warmup: int) -> float:
    """The factor of ``--lr`` at ``step`` of ``total`` with ``warmup`` warm-up steps."""
    return SCHEDULES[name](step, total, warmup)


class LRSchedule(Callback):
    """Sets every parameter group's learning rate before each batch (a function of the step alone, so a resumed
    run continues the same curve)."""

    order = 5

    def __init__(self, name: str, lr: float, warmup_epochs: float) -> None:
        self.name, self.lr, self.warmup_epochs = name, lr, warmup_epochs

    def before_batch(self, trainer: Trainer) -> None:
        per_epoch = len(trainer.train_loader)
        step = trainer.epoch * per_epoch + trainer.batch_index
        warmup = round(self.warmup_epochs * per_epoch)
        lr = self.lr * lr_factor(self.name, step, trainer.epochs * per_epoch, warmup)
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr
        trainer.logs["lr"] = lr  # the last step's rate lands in the epoch's history
