"""Building blocks of a run: seeding, the run folder checks, data, optimizer, loaders, callbacks, the fit."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from convlens import _reporting
from convlens.errors import DataError, RunError, TrainingError
from convlens.runs import RunDir
from convlens.train import distributed as dist_utils
from convlens.train._device import Precision
from convlens.train.callbacks import Checkpoint, EarlyStopping, History, NanGuard, ProgressBar
from convlens.train.config import TrainConfig
from convlens.train.events import Callback
from convlens.train.metrics import LossFn
from convlens.train.optim import OPTIMIZERS
from convlens.train.resume import check_resume_config, restore
from convlens.train.schedule import LRSchedule
from convlens.train.target import TargetAccuracy
from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed torch, numpy and Python so that a CPU run is repeatable."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_run(config: TrainConfig, run: RunDir) -> None:
    """Check ``--out`` against ``--resume``/``--overwrite``; never replace another model's run or user files."""
    if run.path.exists() and not run.path.is_dir():
        raise RunError(f"--out {run.path} is a file; give a folder for the run")
    if config.resume:
        if not run.state().exists():
            raise TrainingError(
                f"--resume: {run.path} holds no unfinished run; drop --resume or give the run's --out"
            )
        check_resume_config(run, config)
        return
    if run.is_run():
        saved = run.read_config().get("train", {})
        saved_name = saved.get("base") or saved.get("model") or run.read_config().get("model")
        if saved_name != config.model_name:
            raise TrainingError(
                f"--out {run.path} holds a run of model {saved_name!r}, not {config.model_name!r}; nothing was "
                f"changed: choose another --out"
            )
        if not config.overwrite:
            raise TrainingError(
                f"--out {run.path} already holds a run; add --resume to continue it, --overwrite to replace it"
            )
    foreign = run.foreign_files()
    if foreign:
        names = ", ".join(p.name for p in foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise RunError(
            f"--out {run.path} holds files that are not a convlens run ({names}); nothing was changed: "
            f"choose an empty or new folder"
        )
    if config.overwrite:
        run.clear()


def load_data(config: TrainConfig) -> Any:
    """Resolve the data and check that it can be trained on (two classes or more, same classes per split)."""
    from convlens.data import resolve_dataset

    label_mode = "categorical" if config.loss == "categorical" else None
    splits = resolve_dataset(
        config.data,
        image_size=(config.image_size, config.image_size),
        channels=config.channels,
        val_fraction=config.val_fraction,
        label_mode=label_mode,
        progress=config.progress and dist_utils.is_main_process(),
    )
    check_splits(splits)
    report_skipped(splits.skipped)
    return splits


def report_skipped(skipped: Sequence[Any], shown: int = 10) -> None:
    """Name the files the data loader left out (unreadable, truncated, not images), never silently."""
    if not skipped or not dist_utils.is_main_process():
        return
    lines = [f"skipped {len(skipped)} file(s) that could not be used (listed in the run's config.json):"]
    lines += [f"  {item.path}: {item.reason}" for item in skipped[:shown]]
    if len(skipped) > shown:
        lines.append(f"  … and {len(skipped) - shown} more")
    _reporting.warn("\n".join(lines))


def check_splits(splits: Any) -> None:
    """Raise :class:`DataError` for one class or for splits whose classes differ."""
    if len(splits.classes) < 2:
        raise DataError(
            f"the data has {len(splits.classes)} class(es) {splits.classes}; a classifier needs at least two "
            f"class folders (<root>/<class>/<image>)"
        )
    for name, dataset in splits.items():
        if list(dataset.classes) != list(splits.classes):
            raise DataError(
                f"the {name} split has classes {dataset.classes} but train has {splits.classes}; "
                f"give every split the same class folders"
            )
        if len(dataset) == 0:
            raise DataError(f"the {name} split holds no images; add images or drop that split")


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer over the trainable parameters only."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainingError("the model has no trainable parameters; check --mode and --unfreeze-from")
    return OPTIMIZERS[config.optimizer](params, config.lr, config.weight_decay)


def make_loader(
    config: TrainConfig, dataset: Any, train: bool, norm: dict[str, Any], precision: Precision
) -> Any:
    """A ``BatchLoader`` (sharded across ranks under DDP for training)."""
    from convlens.data import Augmentation, BatchLoader

    augment = Augmentation.preset(config.augment) if (train and config.augment) else None

    def build(data: Any, indices: Any = None) -> Any:
        return BatchLoader(
            data,
            batch_size=config.batch_size,
            shuffle=train,
            seed=config.seed + 1000 * dist_utils.rank(),
            augment=augment,
            mean=norm.get("mean"),
            std=norm.get("std"),
            channels_last=precision.channels_last,
            pin_memory=precision.device.type == "cuda",
            indices=indices,
            prefetch=config.prefetch if train else 0,
        )

    if train and dist_utils.is_distributed():
        return dist_utils.ShardedLoader(dataset, build, shuffle=True, seed=config.seed)
    return build(dataset)


def fit(
    config: TrainConfig,
    run: RunDir,
    trained: nn.Module,
    loaders: tuple[Any, Any],
    kind: str,
    precision: Precision,
    run_config: dict[str, Any],
    saved: nn.Module | None = None,
    extra: Sequence[Callback] = (),
    carry: Trainer | None = None,
) -> Trainer:
    """Train ``trained`` with the standard callbacks (``saved`` is what checkpoints hold, default ``trained``).

    ``carry``: an earlier phase of the same run (its history and best checkpoint go on; epochs continue).
    """
    callbacks: list[Callback] = [NanGuard(run), History(run), Checkpoint(run, run_config, saved), *extra]
    if config.ema is not None:
        from convlens.train.average import WeightAverage

        callbacks.append(WeightAverage(config.ema))
    callbacks += speed_callbacks(config, run, saved)
    if config.early_stopping_patience > 0:
        callbacks.append(EarlyStopping(config.early_stopping_patience))
    if config.progress:
        callbacks.append(ProgressBar())
    if config.tensorboard:
        from convlens.train.tensorboard import TensorBoard

        callbacks.append(TensorBoard(run, config.augment, config.seed))
    trainer = Trainer(
        trained,
        make_optimizer(config, trained),
        LossFn(kind, config.label_smoothing),
        loaders[0],
        loaders[1],
        config.epochs,
        precision,
        callbacks,
        compile=config.compile,
        val_every=config.val_every,
    )
    if config.resume:
        restore(trainer, run)
    elif carry is not None:
        continue_from(trainer, carry)
    trainer.fit()
    return trainer


def speed_callbacks(config: TrainConfig, run: RunDir, saved: nn.Module | None) -> list[Callback]:
    """The learning-rate schedule and ``--target-accuracy`` (stop; otherwise restore the best checkpoint)."""
    callbacks: list[Callback] = []
    if config.schedule != "constant" or config.warmup_epochs > 0:
        callbacks.append(LRSchedule(config.schedule, config.lr, config.warmup_epochs))
    if config.target_accuracy is not None:
        callbacks.append(TargetAccuracy(run, config.target_accuracy, saved))
    return callbacks


def continue_from(trainer: Trainer, earlier: Trainer) -> None:
    """Start ``trainer`` where ``earlier`` (a previous phase) stopped: its history, epoch count and best
    checkpoint (so ``best/`` is the best of the whole run) go on."""
    trainer.history = list(earlier.history)
    trainer.start_epoch = len(earlier.history)
    states = {type(cb).__name__: cb.state_dict() for cb in earlier.callbacks if isinstance(cb, Checkpoint)}
    resumed = any(cb.mark_pending for cb in earlier.callbacks if isinstance(cb, History))
    for callback in trainer.callbacks:
        if type(callback).__name__ in states or (resumed and isinstance(callback, History)):
            callback.load_state_dict(states.get(type(callback).__name__, {}))


def normalisation(model: nn.Module) -> dict[str, Any]:
    """Mean/std the model's weights expect (``pretrained_cfg``), or none for 0-1 inputs."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return {"mean": cfg.get("mean"), "std": cfg.get("std")}
