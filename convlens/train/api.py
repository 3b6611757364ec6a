"""``convlens.train.train(config) -> Run``: the whole training run, from data spec to checkpoints and curves."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens._console import err_console
from convlens._extras import require_extra
from convlens.train import _build, _models
from convlens.train import distributed as dist_utils
from convlens.train._device import Precision, default_device, resolve_precision
from convlens.train.callbacks import write_history
from convlens.train.config import TrainConfig
from convlens.train.events import Callback
from convlens.train.metrics import LossFn, loss_kind
from convlens.train.resume import restore
from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


@dataclass
class Run:
    """A finished (or early-stopped) training run.

    Attributes:
        out: the run folder.
        config: the options it was trained with.
        history: one dict of metrics per epoch.
        classes: class names in label order.
        label_mode: ``binary`` or ``categorical``.
        model: the trained model (the base + head for a ``features`` run).
    """

    out: Path
    config: TrainConfig
    history: list[dict[str, float]]
    classes: list[str]
    label_mode: str
    model: nn.Module = field(repr=False)

    @property
    def last(self) -> dict[str, float]:
        """The metrics of the last epoch."""
        return self.history[-1] if self.history else {}


def train(config: TrainConfig | None = None, **options: Any) -> Run:
    """Train a model as ``config`` (or keyword options of :class:`TrainConfig`) says.

    Under ``torchrun`` every process calls this; rank 0 writes checkpoints, history and curves.

    Returns:
        The :class:`Run` (also on ranks other than 0).
    """
    config = config if config is not None else TrainConfig(**options)
    if config.tensorboard:  # before hours of feature extraction, not after
        require_extra("tensorboard", "--tensorboard")
    local_rank = dist_utils.init_from_env()
    precision = resolve_precision(config.precision, default_device(local_rank))
    run_dir = _build.prepare_run_dir(config)
    _build.seed_everything(config.seed)
    splits = _build.load_data(config)
    kind = loss_kind(config.loss, splits.label_mode)
    log.info("training %s on %s (%s, %s)", config.model_name, config.data, kind, precision.name)
    if config.mode == "features":
        from convlens.train.feature_mode import fit_on_features

        trainer, model = fit_on_features(config, splits, kind, precision, run_dir)
    else:
        trainer, model = _fit_model(config, splits, kind, precision, run_dir)
    if dist_utils.is_main_process():
        finish(run_dir, trainer.history)
    if local_rank is not None:
        dist_utils.shutdown()
    return Run(run_dir, config, trainer.history, list(splits.classes), kind, model)


def _fit_model(
    config: TrainConfig, splits: Any, kind: str, precision: Precision, run_dir: Path
) -> tuple[Trainer, nn.Module]:
    model = _models.build_model(config, splits, kind).to(precision.device)
    if precision.channels_last:
        model = model.to(memory_format=torch.channels_last)
    norm = _build.normalisation(model)
    train_loader = _build.make_loader(config, splits.train, True, norm, precision)
    val_loader = (
        _build.make_loader(config, splits.validation, False, norm, precision) if splits.validation else None
    )
    run_config = _models.run_config(config, splits, kind)
    callbacks = _build.make_callbacks(config, run_dir, _models.write_checkpoint, run_config)
    if config.mode in ("frozen", "finetune"):
        callbacks.append(FrozenNormsInEval())
    trainer = Trainer(
        model,
        _build.make_optimizer(config, model),
        LossFn(kind),
        train_loader,
        val_loader,
        config.epochs,
        precision,
        callbacks,
    )
    if config.resume:
        restore(trainer, run_dir)
    trainer.fit()
    return trainer, model


class FrozenNormsInEval(Callback):
    """Keeps frozen batch-norm layers in inference mode during training (as Keras does)."""

    def before_epoch(self, trainer: Trainer) -> None:
        from convlens.train.transfer import keep_frozen_norms_in_eval

        keep_frozen_norms_in_eval(trainer.module)


def finish(run_dir: Path, history: list[dict[str, float]]) -> None:
    """Write the history and the raw and smoothed curves of a run."""
    from convlens.report import plot_curves

    if not history:
        return
    write_history(run_dir, history)
    plot_curves(history, run_dir / "curves.png")
    plot_curves(history, run_dir / "curves_smoothed.png", smooth=0.8)
    err_console.print(
        f"run written to {run_dir} (curves.png, history.csv, model.safetensors)", highlight=False
    )
