"""Defaults that depend on what is trained: the input size comes from the network (a pretrained base is used at
the size it was trained at), the learning rate from the mode, the fine-tuning start from the base's last block."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convlens.errors import ConfigError

if TYPE_CHECKING:
    from convlens.train.config import TrainConfig

# The book's rates (seeds 000/004) where it gives one; a dense head on cached features learns faster.
MODE_LR = {"scratch": 1e-4, "features": 1e-4, "frozen": 2e-5, "finetune": 1e-5}


def fill_defaults(config: TrainConfig) -> None:
    """Fill ``image_size``, ``lr`` and (fine-tuning) ``unfreeze_from`` where they were left out."""
    from convlens.models import registry

    name = config.base if config.mode != "scratch" and config.base else config.model
    if config.mode != "scratch" and not config.base:
        raise ConfigError(f"--mode {config.mode} needs a pretrained base: add --base efficientnet_lite0")
    meta = registry.entry(name).meta
    if config.image_size is None:
        config.image_size = int(meta["default_input_size"][1])
    if config.lr is None:
        config.lr = MODE_LR[config.mode]
    if config.mode == "finetune" and not config.unfreeze_from:
        config.unfreeze_from = meta.get("finetune_from") or _no_default(name)


def _no_default(name: str) -> str:
    from convlens import models

    names = models.create(name).layer_names()
    raise ConfigError(
        f"--mode finetune: {name} has no default block to fine-tune from; give --unfreeze-from LAYER, one of: "
        + ", ".join(names)
    )
