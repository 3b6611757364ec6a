"""``convlens.train.train(config) -> Run``: the whole training run, from data spec to checkpoints and curves."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens import _reporting
from convlens._extras import require_extra
from convlens.labels import loss_kind
from convlens.runs import RunDir
from convlens.train import _build, _models
from convlens.train import distributed as dist_utils
from convlens.train._device import Precision, default_device, describe, environment, resolve_precision
from convlens.train.callbacks import BaseInInferenceMode
from convlens.train.config import TrainConfig
from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


@dataclass
class Run:
    """A finished (or early-stopped) training run.

    Attributes:
        out: the run folder.
        config: the options it was trained with (paths resolved).
        history: one dict of metrics per epoch.
        classes: class names in label order.
        label_mode: ``binary`` or ``categorical``.
        model: the trained model (the base + head for a ``features`` run).
        report: the HTML report written at the end (``report=True`` through ``convlens.service.train``).
    """

    out: Path
    config: TrainConfig
    history: list[dict[str, float]]
    classes: list[str]
    label_mode: str
    model: nn.Module = field(repr=False)
    report: Path | None = None

    @property
    def last(self) -> dict[str, float]:
        """The metrics of the last epoch."""
        return self.history[-1] if self.history else {}

    def _repr_html_(self) -> str:
        from convlens.report.html.notebook import run_html

        return run_html(self.out, self.config, self.history, self.classes)

    @property
    def run(self) -> RunDir:
        """The run folder as a :class:`RunDir`."""
        return RunDir(self.out)


def train(
    config: TrainConfig | None = None, reporter: _reporting.Reporter | None = None, **options: Any
) -> Run:
    """Train a model as ``config`` (or keyword options of :class:`TrainConfig`) says.

    Under ``torchrun`` every process calls this; rank 0 writes checkpoints, history and curves, and holds the
    run folder's lock (a second training into the same ``--out`` gets a clear error).

    Returns:
        The :class:`Run` (also on ranks other than 0).
    """
    config = resolved(config if config is not None else TrainConfig.from_dict(options))
    if config.tensorboard:  # before hours of feature extraction, not after
        require_extra("tensorboard", "--tensorboard")
    with _reporting.use_reporter(reporter):
        local_rank = dist_utils.init_from_env()
        precision = resolve_precision(config.precision, default_device(local_rank))
        run = RunDir(config.out)
        main = dist_utils.is_main_process()
        with run.lock() if main else nullcontext():
            if main:
                _build.prepare_run(config, run)
                _reporting.message(describe(precision))
            result = _train_into(config, run, precision, main)
        if local_rank is not None:
            dist_utils.shutdown()
    return result


def resolved(config: TrainConfig) -> TrainConfig:
    """The config with absolute paths, so that the run works from any folder and is the same run however
    ``--out`` is spelled (a built-in data name stays a name)."""
    changes: dict[str, Any] = {"out": str(Path(config.out).expanduser().resolve())}
    if config.data and Path(config.data).expanduser().exists():
        changes["data"] = str(Path(config.data).expanduser().resolve())
    if config.init_from:
        changes["init_from"] = str(Path(config.init_from).expanduser().resolve())
    return config.replace(**changes)


def _train_into(config: TrainConfig, run: RunDir, precision: Precision, main: bool) -> Run:
    _build.seed_everything(config.seed)
    splits = _build.load_data(config)
    kind = loss_kind(config.loss, splits.label_mode)
    log.info("training %s on %s (%s, %s)", config.model_name, config.data, kind, precision.name)
    extra = {"environment": environment(precision)}
    if config.mode == "features":
        from convlens.train.feature_mode import fit_on_features

        trainer, model = fit_on_features(config, splits, kind, precision, run, extra)
    elif config.mode == "finetune" and config.head_epochs:
        from convlens.train.finetune import fit_finetune

        trainer, model = fit_finetune(config, splits, kind, precision, run, extra)
    else:
        trainer, model = _fit_model(config, splits, kind, precision, run, extra)
    if main:
        finish(run, trainer.history, config)
    return Run(run.path, config, trainer.history, list(splits.classes), kind, model)


def _fit_model(
    config: TrainConfig, splits: Any, kind: str, precision: Precision, run: RunDir, extra: dict[str, Any]
) -> tuple[Trainer, nn.Module]:
    model = _models.build_model(config, splits, kind).to(precision.device)
    if precision.channels_last:
        model = model.to(memory_format=torch.channels_last)
    norm = _build.normalisation(model)
    train_loader = _build.make_loader(config, splits.train, True, norm, precision)
    val_loader = (
        _build.make_loader(config, splits.validation, False, norm, precision) if splits.validation else None
    )
    counts = _models.parameter_counts(model, sum(1 for _ in model.parameters()))
    run_config = _models.run_config(config, splits, kind, trainable=counts, **extra)
    callbacks = [BaseInInferenceMode()] if config.mode in ("frozen", "finetune") else []
    trainer = _build.fit(
        config, run, model, (train_loader, val_loader), kind, precision, run_config, extra=callbacks
    )
    return trainer, model


def finish(run: RunDir, history: list[dict[str, float]], config: TrainConfig | None = None) -> None:
    """Write the history and the raw and smoothed curves of a run."""
    if not history:
        return
    run.write_history(history)
    run.write_curves(history, title=run.path.name)
    _reporting.message(f"run written to {run.path} (curves.png, history.csv, model.safetensors)")
