"""Checks of :class:`~convlens.train.config.TrainConfig`'s speed and input options, kept out of the config class."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from convlens.errors import ConfigError
from convlens.train.init import INITS
from convlens.train.normalize import NORMALIZATIONS
from convlens.train.schedule import SCHEDULES

if TYPE_CHECKING:
    from convlens.train.config import TrainConfig


def choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Refuse ``value`` unless it is one of ``choices``, naming the option as the command line spells it."""
    if value not in choices:
        raise ConfigError(f"--{name.replace('_', '-')} {value!r} is not one of: {', '.join(choices)}")


def check_speed_options(config: TrainConfig) -> None:
    """The speed options (#13): init, schedule, warm-up, decay, prefetch, smoothing, target, average, inputs."""
    choice("init", config.init, tuple(INITS))
    choice("schedule", config.schedule, tuple(SCHEDULES))
    if not 0.0 <= config.warmup_epochs <= config.epochs:  # also false for nan
        raise ConfigError(
            f"--warmup-epochs {config.warmup_epochs} must be between 0 and --epochs {config.epochs}"
        )
    if config.weight_decay is not None and not (
        math.isfinite(config.weight_decay) and config.weight_decay >= 0
    ):
        raise ConfigError(f"--weight-decay {config.weight_decay} must be a number >= 0")
    if not 0 <= config.prefetch <= 64:
        raise ConfigError(f"--prefetch {config.prefetch} must be a number of batches from 0 to 64")
    if not 0.0 <= config.label_smoothing < 1.0:
        raise ConfigError(f"--label-smoothing {config.label_smoothing} must be in [0, 1)")
    if config.target_accuracy is not None and not 0.0 < config.target_accuracy <= 1.0:
        raise ConfigError(
            f"--target-accuracy {config.target_accuracy} must be a fraction in (0, 1], e.g. 0.82"
        )
    _check_ema(config)
    _check_normalize(config)
    one_phase = config.schedule == "constant" and not config.warmup_epochs and config.target_accuracy is None
    if config.head_epochs and not one_phase:
        raise ConfigError(
            "--schedule, --warmup-epochs and --target-accuracy apply to one training phase; --mode finetune "
            "trains the head first: add --head-epochs 0, or fine-tune with --init-from a features run"
        )


def _check_ema(config: TrainConfig) -> None:
    if config.ema is None:
        return
    if not 0.0 < config.ema < 1.0:  # also false for nan
        raise ConfigError(f"--ema {config.ema} must be a decay between 0 and 1, e.g. 0.995")
    if config.mode == "features" or config.head_epochs:
        raise ConfigError(
            "--ema averages the weights of one network trained end to end; --mode features and --head-epochs "
            "train a head on cached features: use --mode scratch, frozen, or finetune with --head-epochs 0"
        )


def _check_normalize(config: TrainConfig) -> None:
    choice("normalize", config.normalize, tuple(NORMALIZATIONS))
    if config.normalize == "none":
        return
    if config.mode != "scratch":
        raise ConfigError(
            f"--normalize {config.normalize} is for networks trained from scratch; a pretrained --base keeps the "
            f"normalisation its weights were trained with: drop --normalize"
        )
    if config.init_from:
        raise ConfigError(
            f"--normalize {config.normalize} with --init-from: the run keeps the inputs of the run it starts "
            f"from; drop --normalize"
        )
