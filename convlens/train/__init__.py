"""convlens.train: the trainer, its callbacks, transfer learning and evaluation.

``convlens.train(config)`` (or ``convlens.train.train(config)``) trains from Python exactly as ``convlens train``
does and returns the :class:`Run`; the package itself is callable so that both spellings work.
"""

import sys
import types

from convlens.runs import load_run
from convlens.train.api import Run, train
from convlens.train.config import TrainConfig
from convlens.train.evaluate import evaluate_run
from convlens.train.events import EVENTS, Callback
from convlens.train.trainer import Trainer

__all__ = ["EVENTS", "Callback", "Run", "TrainConfig", "Trainer", "evaluate_run", "load_run", "train"]


class _CallablePackage(types.ModuleType):
    """``convlens.train(...)`` is ``convlens.train.train(...)``."""

    def __call__(self, config: TrainConfig | None = None, **options: object) -> Run:
        return train(config, **options)


sys.modules[__name__].__class__ = _CallablePackage
