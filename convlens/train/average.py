"""``--ema DECAY``: validate, checkpoint and keep an exponential moving average of the weights.

After every optimizer step the average moves towards the trained weights,
``w_avg ← decay · w_avg + (1 − decay) · w`` (torch's :func:`~torch.optim.swa_utils.get_ema_multi_avg_fn`;
Keras' ``use_ema=True, ema_momentum=decay``), batch-norm statistics included. The average spans about
``1 / (1 − decay)`` steps: 0.995 is 200 steps, six epochs of the book split at batch 64. Validation, ``best/``,
``model.safetensors``, ``--target-accuracy`` and the model a run returns are the averaged weights; the resume
state keeps both, so ``--resume`` continues the same average.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from convlens.errors import CheckpointError
from convlens.train.events import Callback

if TYPE_CHECKING:
    from convlens.train.trainer import Trainer


class WeightAverage(Callback):
    """Keeps the averaged copy, updates it after each step and makes it the trainer's ``eval_module``."""

    order = 5  # before the callbacks that read the validated weights; after_fit before TargetAccuracy (92)

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.averaged: AveragedModel | None = None
        self._saved: dict[str, torch.Tensor] | None = None

    def before_fit(self, trainer: Trainer) -> None:
        self.averaged = AveragedModel(
            trainer.module, multi_avg_fn=get_ema_multi_avg_fn(self.decay), use_buffers=True
        ).eval()
        if self._saved is not None:  # --resume: the average goes on where it stopped
            try:
                self.averaged.load_state_dict(self._saved)
            except RuntimeError as exc:
                raise CheckpointError(f"the saved weight average does not fit the model ({exc})") from None
        trainer.eval_module = self.averaged.module

    def after_batch(self, trainer: Trainer) -> None:
        assert self.averaged is not None
        self.averaged.update_parameters(trainer.module)

    def after_fit(self, trainer: Trainer) -> None:
        """The run's model in memory becomes the average, as ``model.safetensors`` holds it."""
        if self.averaged is not None and int(self.averaged.n_averaged) > 0:
            trainer.module.load_state_dict(self.averaged.module.state_dict())
        trainer.eval_module = trainer.module

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay}

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return dict(self.averaged.state_dict()) if self.averaged is not None else {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self._saved = tensors or None
