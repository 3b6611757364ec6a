"""convlens.train: the trainer, its callbacks, transfer learning and evaluation.

``convlens.train.train(config) -> Run`` trains from Python exactly as ``convlens train`` does.
"""

from convlens.train._models import load_run
from convlens.train.api import Run, train
from convlens.train.config import TrainConfig
from convlens.train.events import EVENTS, Callback
from convlens.train.trainer import Trainer

__all__ = ["EVENTS", "Callback", "Run", "TrainConfig", "Trainer", "load_run", "train"]
