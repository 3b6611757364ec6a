"""The training loop: a few named events; checkpoints, history, progress and early stopping are callbacks."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from convlens.errors import DataError
from convlens.train import distributed as dist_utils
from convlens.train._device import Precision
from convlens.train.events import EVENTS, Callback
from convlens.train.metrics import EpochMeter, LossFn

log = logging.getLogger(__name__)


class Loader(Protocol):
    """What the trainer needs from a batch loader (``convlens.data.BatchLoader`` fits)."""

    def __iter__(self) -> Any: ...

    def __len__(self) -> int: ...

    def set_epoch(self, epoch: int) -> None: ...


class Trainer:
    """Runs epochs of ``model`` on ``train_loader``, validating on ``val_loader``, emitting named events.

    Attributes the callbacks read: ``model`` (possibly DDP-wrapped), ``module`` (the bare model),
    ``eval_module`` (the weights validated and checkpointed: ``module``, or its average with ``--ema``),
    ``optimizer``, ``epoch`` (0-based), ``batch``, ``batch_index``, ``loss``, ``logs`` (this epoch's metrics),
    ``history`` (one dict per finished epoch), ``should_stop``.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: LossFn,
        train_loader: Loader,
        val_loader: Loader | None,
        epochs: int,
        precision: Precision,
        callbacks: Sequence[Callback] = (),
        compile: bool = False,
        val_every: int = 1,
    ) -> None:
        self.module = model
        self.eval_module: nn.Module = model
        self.model = dist_utils.wrap_ddp(model, precision.device)
        if compile:  # the training step only; validation and checkpoints use ``eval_module``
            from convlens.train.compile import compile_model

            self.model = compile_model(self.model, precision.device)
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.val_every = val_every
        self.epochs = epochs
        self.precision = precision
        self.scaler = torch.amp.GradScaler(precision.device.type, enabled=precision.grad_scaling)
        self.callbacks = sorted(callbacks, key=lambda cb: cb.order)
        self.start_epoch = 0
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.logs: dict[str, float] = {}
        self.batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self.batch_index = 0
        self.loss: torch.Tensor | None = None
        self.should_stop = False

    def emit(self, event: str) -> None:
        """Call ``event`` on every callback (rank-0-only callbacks are skipped on other ranks)."""
        assert event in EVENTS, event
        is_main = dist_utils.is_main_process()
        for callback in self.callbacks:
            if is_main or not callback.rank_zero_only:
                getattr(callback, event)(self)

    def fit(self) -> list[dict[str, float]]:
        """Train from ``start_epoch`` up to ``epochs``; return the history."""
        try:
            self.emit("before_fit")
            for epoch in range(self.start_epoch, self.epochs):
                self.run_epoch(epoch)
                if dist_utils.any_rank(self.should_stop, self.precision.device):
                    break
            self.emit("after_fit")
        finally:
            for callback in self.callbacks:
                callback.close()
        return self.history

    def run_epoch(self, epoch: int) -> None:
        """Train one epoch, validate, record the history and emit the epoch events."""
        self.epoch = epoch
        self.logs = {"epoch": epoch + 1}
        self.model.train()
        self.emit("before_epoch")
        self.logs.update(self.train_epoch())
        if self.val_loader is not None and self.validates(epoch):
            self.logs.update({f"val_{k}": v for k, v in self.evaluate(self.val_loader).items()})
        self.emit("after_validate")
        self.history.append(dict(self.logs))
        self.emit("after_epoch")

    def validates(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) ends with a validation pass: every ``val_every``-th epoch and the last."""
        return (epoch + 1) % self.val_every == 0 or epoch + 1 == self.epochs

    def skipped_validation(self) -> bool:
        """The run validates, but not after this epoch (its callbacks that judge by validation wait)."""
        return self.val_loader is not None and "val_loss" not in self.logs

    def train_epoch(self) -> dict[str, float]:
        """One pass over the training loader; returns mean ``loss`` and ``acc`` over all ranks."""
        self.train_loader.set_epoch(self.epoch)
        meter = EpochMeter(self.precision.device)
        for index, batch in enumerate(_guard_reads(self.train_loader, self.epoch)):
            self.batch_index = index
            self.batch = self._to_device(batch)
            self.emit("before_batch")
            logits = self._step()
            meter.update(self.loss, logits, self.batch[1], self.loss_fn)
            self.emit("after_batch")
        return meter.result()

    def _step(self) -> torch.Tensor:
        x, y = self.batch
        self.optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast():
            logits = self.model(x)
            self.loss = self.loss_fn(logits.float(), y)
        self.emit("after_loss")
        self.scaler.scale(self.loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return logits.detach()

    @torch.no_grad()
    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Mean ``loss`` and ``acc`` of ``eval_module`` on ``loader`` (eval mode, no gradients)."""
        modes = [(m, m.training) for m in (self.model, self.eval_module)]
        self.model.eval()
        self.eval_module.eval()
        meter = EpochMeter(self.precision.device)
        loss_fn = self.loss_fn.unsmoothed()
        try:
            for batch in loader:
                x, y = self._to_device(batch)
                with self.precision.autocast():
                    logits = self.eval_module(x)
                meter.update(loss_fn(logits.float(), y), logits, y, loss_fn)
        finally:
            for module, mode in modes:
                module.train(mode)
        return meter.result()

    def _to_device(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch
        device = self.precision.device
        non_blocking = device.type == "cuda"
        x = x.to(device, non_blocking=non_blocking)
        if self.precision.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y.to(device, non_blocking=non_blocking)


def _guard_reads(loader: Iterable[Any], epoch: int) -> Iterator[Any]:
    """Turn an I/O failure inside the loader into a :class:`DataError` that says what to do."""
    iterator = iter(loader)
    index = 0
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except OSError as exc:
            raise DataError(
                f"reading batch {index + 1} of epoch {epoch + 1} failed ({exc}); the last finished epoch's "
                f"checkpoint is kept: fix or remove the file, then run again with --resume"
            ) from exc
        yield batch
        index += 1
