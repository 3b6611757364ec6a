"""The trainer's named events and the callback base class.

A callback overrides the events it needs; the loop calls them in ``order`` (lower first). Callbacks that
must survive a resume keep their state in :meth:`Callback.state_dict` (JSON-ready values) and, when it holds
tensors, :meth:`Callback.state_tensors` (saved with the resume state as safetensors, never pickled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from convlens.train.trainer import Trainer

EVENTS = (
    "before_fit",
    "before_epoch",
    "before_batch",
    "after_loss",
    "after_batch",
    "after_validate",
    "after_epoch",
    "after_fit",
)


class Callback:
    """Base class: every event is a no-op; ``order`` sorts callbacks (history before checkpoints)."""

    order: int = 50
    rank_zero_only: bool = False

    def before_fit(self, trainer: Trainer) -> None:
        """Once, before the first epoch (after a resume has restored the state)."""

    def before_epoch(self, trainer: Trainer) -> None:
        """At the start of each epoch; ``trainer.epoch`` is 0-based."""

    def before_batch(self, trainer: Trainer) -> None:
        """Before the forward pass; ``trainer.batch`` holds ``(x, y)`` on the device."""

    def after_loss(self, trainer: Trainer) -> None:
        """After the loss is computed, before backward; ``trainer.loss`` is set."""

    def after_batch(self, trainer: Trainer) -> None:
        """After the optimizer step."""

    def after_validate(self, trainer: Trainer) -> None:
        """After validation; ``trainer.logs`` holds ``val_loss``/``val_acc`` when there is a validation split."""

    def after_epoch(self, trainer: Trainer) -> None:
        """After training and validation of one epoch; ``trainer.logs`` is complete."""

    def after_fit(self, trainer: Trainer) -> None:
        """Once, when training ends (also after early stopping)."""

    def close(self) -> None:
        """Release resources (progress bars, files) whether training ended normally or not."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready state restored on ``--resume``."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Named tensors restored on ``--resume`` (e.g. an average of the weights)."""
        return {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_tensors` returned (called before ``before_fit``)."""
