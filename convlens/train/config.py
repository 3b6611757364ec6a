"""The typed training configuration, in the book's terms, from CLI options or a YAML/JSON file."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Collection
from dataclasses import InitVar, dataclass, field, fields
from pathlib import Path
from typing import Any

from convlens.errors import ConfigError
from convlens.train._checks import check_speed_options, choice
from convlens.train.optim import OPTIMIZERS
from convlens.train.recipes import RECIPES
from convlens.train.recipes import fill as fill_recipe

PRECISIONS = ("auto", "bf16", "fp32")
LOSSES = ("auto", "binary", "categorical")
MODES = ("scratch", "features", "frozen", "finetune")

# Options that may change between a run and its resumption without changing what is trained.
RESUMABLE_CHANGES = frozenset(
    {
        "epochs",
        "resume",
        "overwrite",
        "progress",
        "early_stopping_patience",
        "tensorboard",
        "report",
        "target_accuracy",
        "compile",
        "prefetch",
        "val_every",
    }
)


@dataclass
class TrainConfig:
    """Everything one training run needs; the defaults are the book's (seed 000).

    Attributes:
        data: a data spec for :func:`convlens.data.resolve_dataset` (built-in name or folder).
        model: a model name from :mod:`convlens.models` (ignored when ``base`` is set).
        out: the run folder (checkpoints, history, curves).
        image_size: side of the square input in pixels (default: the model's or the base's own input size,
            e.g. 150 for small_convnet as the book, 224 for efficientnet_lite0).
        batch_size: images per optimizer step (per process under DDP).
        epochs: number of epochs (a resumed run continues up to this number); default by mode, see
            :data:`MODE_EPOCHS` (30 as the book; 10 end-to-end epochs for ``finetune``, after the head epochs).
        optimizer: ``rmsprop`` (book), ``adam``, ``adamw`` or ``sgd`` (:data:`convlens.train.optim.OPTIMIZERS`).
        lr: learning rate (default per mode, see :data:`MODE_LR`; the book: 1e-4 from scratch, 2e-5 for a
            frozen base, 1e-5 for fine-tuning; the head epochs of ``finetune`` use the features rate, 1e-4).
        augment: an augmentation preset name (``book``) or ``None``.
        dropout: dropout before the dense layer (0 turns it off; the book uses 0.5).
        seed: seed of every random number generator (weights, shuffling, augmentation, dropout).
        precision: ``auto`` (bf16 autocast where the hardware gains), ``bf16`` or ``fp32``.
        loss: ``auto`` (from the data's label mode), ``binary`` or ``categorical``.
        early_stopping_patience: stop after this many epochs without a better ``val_loss`` (0: off).
        base: a pretrained base for transfer learning (e.g. ``efficientnet_lite0``, ``vgg16``).
        mode: ``scratch``, ``features``, ``frozen`` or ``finetune``.
        head_epochs: ``finetune`` only: epochs that train the dense head on cached features before the base
            is unfrozen (the book's way: train the head, then fine-tune); default 30 without ``init_from``
            (the head then starts trained), 0 with it. The history has a ``phase`` column (``head``,
            ``finetune``); ``epochs`` counts the fine-tuning epochs that follow.
        unfreeze_from: first layer trained again in ``finetune`` mode (default: the base's last block,
            ``block5_conv1`` for VGG16 as the book, ``blocks.11`` for efficientnet_lite0).
        init_from: a run folder whose weights start this run (a ``frozen`` run before fine-tuning).
        pretrained: use the base's pretrained weights (offline; fails clearly when missing).
        val_fraction: validation share for a flat class-folder root.
        channels: 3 for colour, 1 for grey images.
        resume: continue the run in ``out`` exactly where it stopped.
        overwrite: replace an earlier run of the same model in ``out``.
        progress: draw progress bars.
        tensorboard: also write TensorBoard events to ``out/tb`` (needs ``convlens[tensorboard]``).
        report: write ``RUN/report.html`` at the end (``convlens.service.train``; evaluate refreshes it).
        init: initial weights of a network trained from scratch: ``torch`` (PyTorch's layer defaults, the
            default) or ``keras`` (Glorot-uniform weights, zero biases, as the seed's Keras models).
        schedule: learning-rate schedule per step, ``constant`` (book), ``cosine`` or ``onecycle``
            (:mod:`convlens.train.schedule` documents each).
        warmup_epochs: epochs of linear warm-up (fractions allowed; for ``onecycle`` the rising phase).
        weight_decay: weight decay (``None``: the optimizer's default, 0 except 1e-2 for ``adamw``).
        label_smoothing: training targets moved this share towards uniform (Keras' ``label_smoothing``); the
            validation loss is measured against the true labels.
        target_accuracy: stop after the first epoch whose validation accuracy is at least this and keep that
            epoch's weights; when no epoch reaches it, the best checkpoint (lowest validation loss) becomes the
            run's weights.
        recipe: a named preset of options (``book``: the seed's RMSprop 1e-4 recipe, ``fast``), filling the
            options not given (:mod:`convlens.train.recipes`).
        compile: run the training step through ``torch.compile`` (:mod:`convlens.train.compile`); the compiled
            kernels are cached on disk so the next run of the same network starts fast.
        prefetch: batches the training loader makes ahead in a background thread (0: none).
        ema: validate and keep an exponential moving average of the weights, this decay per step (e.g. 0.995;
            :mod:`convlens.train.average`); ``None``: the trained weights themselves.
        normalize: inputs of a network trained from scratch: ``none`` (pixels in 0-1, the seed's) or
            ``dataset`` (each channel standardised by the training photos' mean and std, kept in the
            checkpoint; :mod:`convlens.train.normalize`).
        val_every: validate after every N-th epoch and after the last one (Keras' ``validation_freq``); the
            epochs between have no ``val_`` columns in the history, and ``best/``, early stopping (its patience
            counts validated epochs) and ``target_accuracy`` look at the validated epochs only.
    """

    data: str = ""
    model: str = "small_convnet"
    out: str = "runs/run"
    image_size: int | None = None
    batch_size: int = 20
    epochs: int | None = None
    optimizer: str = "rmsprop"
    lr: float | None = None
    augment: str | None = None
    dropout: float = 0.0
    seed: int = 0
    precision: str = "auto"
    loss: str = "auto"
    early_stopping_patience: int = 0
    base: str | None = None
    mode: str = "scratch"
    head_epochs: int | None = None
    unfreeze_from: str | None = None
    init_from: str | None = None
    pretrained: bool = True
    val_fraction: float | None = None
    channels: int = 3
    resume: bool = False
    overwrite: bool = False
    progress: bool = True
    tensorboard: bool = False
    report: bool = False
    init: str = "torch"
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    weight_decay: float | None = None
    label_smoothing: float = 0.0
    target_accuracy: float | None = None
    recipe: str | None = None
    compile: bool = False
    prefetch: int = 0
    ema: float | None = None
    normalize: str = "none"
    val_every: int = 1
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    given: InitVar[Collection[str] | None] = None
    """Names of the options the user gave (they win over ``recipe``); ``None``: those not at their defaults."""

    def __post_init__(self, given: Collection[str] | None) -> None:
        if self.recipe is not None:
            choice("recipe", self.recipe, tuple(RECIPES))
            fill_recipe(self, given)
        choice("mode", self.mode, MODES)
        from convlens.train.defaults import fill_defaults

        fill_defaults(self)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` when options contradict each other."""
        choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        choice("precision", self.precision, PRECISIONS)
        choice("loss", self.loss, LOSSES)
        choice("mode", self.mode, MODES)
        if self.epochs < 1 or self.batch_size < 1 or not 8 <= self.image_size <= 4096:
            raise ConfigError("--epochs and --batch-size must be >= 1 and --image-size between 8 and 4096")
        if self.head_epochs < 0 or (self.head_epochs and self.mode != "finetune"):
            raise ConfigError(
                f"--head-epochs {self.head_epochs}: give a number >= 0, and only with --mode finetune (--mode "
                f"features trains the head alone)"
            )
        if not 0.0 <= self.dropout < 1.0:  # also false for nan
            raise ConfigError(f"--dropout {self.dropout} must be in [0, 1)")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"--lr {self.lr} must be a positive number")
        if self.val_every < 1:
            raise ConfigError(f"--val-every {self.val_every} must be >= 1 (1: validate after every epoch)")
        if self.val_fraction is not None and not 0.0 < self.val_fraction < 1.0:
            raise ConfigError(f"--val-fraction {self.val_fraction} must be between 0 and 1")
        if self.mode != "scratch" and not self.base:
            raise ConfigError(f"--mode {self.mode} needs a pretrained base: add --base efficientnet_lite0")
        check_speed_options(self)

    @property
    def model_name(self) -> str:
        """The network actually built: the base in transfer modes, else ``model``."""
        return self.base if self.base else self.model

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every option."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes``: every option counts as given, so a recipe never overrides one twice."""
        return dataclasses.replace(self, given=_option_names(), **changes)

    @classmethod
    def from_dict(cls, values: dict[str, Any], saved: bool = False) -> TrainConfig:
        """Build from a dict, refusing unknown keys with the list of known ones.

        ``saved``: the options a run recorded in ``config.json``; a key it lacks is an option added since, so it
        takes its default (what that run trained with), never a recipe's value.
        """
        known = _option_names()
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown training option(s) {unknown}; known options: {sorted(known)}")
        return cls(**values, given=known if saved else frozenset(values))

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """Read a YAML or JSON file (never evaluated as code); ``overrides`` win."""
        values = dict(read_config_file(path))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values)

    def differences(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """Options that differ from ``other`` and would change what is trained."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {k: (theirs[k], mine[k]) for k in mine if k not in RESUMABLE_CHANGES and mine[k] != theirs[k]}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a YAML (``.yaml``/``.yml``) or JSON config file into a dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; give a YAML or JSON file of training options")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            values = yaml.safe_load(text) or {}
        else:
            values = json.loads(text)
    except Exception as exc:
        raise ConfigError(f"cannot parse config file {path}: {exc}") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of option: value")
    return {k.replace("-", "_"): v for k, v in values.items()}


def _option_names() -> frozenset[str]:
    return frozenset(f.name for f in fields(TrainConfig))
