"""Defaults that depend on what is trained: the input size comes from the network (a pretrained base is used at
the size it was trained at), the learning rate and the epochs from the mode, the fine-tuning start from the
base's last block, and a fine-tuning run first trains its dense head on cached features (the book's way: train
the head, then unfreeze)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convlens.errors import ConfigError

if TYPE_CHECKING:
    from convlens.train.config import TrainConfig

# The book's rates (seeds 000/004) where it gives one; a dense head on cached features learns faster.
MODE_LR = {"scratch": 1e-4, "features": 1e-4, "frozen": 2e-5, "finetune": 1e-5}
# The book's 30 epochs; fine-tuning runs end to end through the base (minutes per epoch on a CPU) after the
# head has been trained on cached features, so a few epochs are enough (measured: benchmarks/RESULTS.md).
MODE_EPOCHS = {"scratch": 30, "features": 30, "frozen": 30, "finetune": 10}
# ``--mode finetune`` without ``--init-from``: epochs of the dense head on cached features first, at the
# features-mode rate (as ``--mode features`` with its defaults: seconds once the features are cached).
HEAD_EPOCHS = 30
HEAD_LR = MODE_LR["features"]


def fill_defaults(config: TrainConfig) -> None:
    """Fill ``image_size``, ``lr``, ``epochs``, ``head_epochs`` and (fine-tuning) ``unfreeze_from`` where they
    were left out."""
    from convlens.models import registry

    name = config.base if config.mode != "scratch" and config.base else config.model
    if config.mode != "scratch" and not config.base:
        raise ConfigError(f"--mode {config.mode} needs a pretrained base: add --base efficientnet_lite0")
    meta = registry.entry(name).meta
    if config.image_size is None:
        config.image_size = int(meta["default_input_size"][1])
    if config.lr is None:
        config.lr = MODE_LR[config.mode]
    if config.epochs is None:
        config.epochs = MODE_EPOCHS[config.mode]
    if config.head_epochs is None:
        config.head_epochs = HEAD_EPOCHS if config.mode == "finetune" and not config.init_from else 0
    if config.mode == "finetune" and not config.unfreeze_from:
        config.unfreeze_from = meta.get("finetune_from") or _no_default(name)


def _no_default(name: str) -> str:
    from convlens import models

    names = models.create(name).layer_names()
    raise ConfigError(
        f"--mode finetune: {name} has no default block to fine-tune from; give --unfreeze-from LAYER, one of: "
        + ", ".join(names)
    )
