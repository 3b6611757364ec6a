"""Where a model comes from: a registry name (pretrained weights, offline) or a run folder — chosen once here."""

from __future__ import annotations

import logging
from pathlib import Path

from convlens import _reporting
from convlens.errors import ConfigError, UnknownName, WeightsNotFound
from convlens.models.loaded import LoadedModel

log = logging.getLogger(__name__)

DEFAULT_MODEL = "efficientnet_lite0"


def load_model(
    model: str | None = None,
    checkpoint: str | Path | None = None,
    weights: str | Path | None = None,
    random_if_missing: bool = False,
    device: str | None = None,
) -> LoadedModel:
    """A registry model with its pretrained weights, or the trained model of a run; ready in eval mode.

    Args:
        model: a registry name (``convlens models list``); default ``efficientnet_lite0`` when no checkpoint.
        checkpoint: a run folder of ``convlens train`` (any mode) or a plain checkpoint folder.
        weights: an explicit weights file for ``model``.
        random_if_missing: without pretrained weights, use random ones (with a warning) instead of failing.
        device: ``cpu``, ``cuda``...; default CUDA when available.
    """
    if model and checkpoint:
        raise ConfigError("give one of --model NAME or --checkpoint RUN_DIR, not both")
    if checkpoint is not None:
        loaded = _from_run(checkpoint)
    else:
        loaded = _from_registry(model or DEFAULT_MODEL, weights, random_if_missing)
    loaded.model.to(_device(device))
    return loaded


def _device(device: str | None) -> str:
    import torch

    return device or ("cuda" if torch.cuda.is_available() else "cpu")


def _from_run(checkpoint: str | Path) -> LoadedModel:
    from convlens.runs import load_run

    net, config = load_run(checkpoint)
    classes = config.get("classes")
    cfg = dict(getattr(net, "pretrained_cfg", {}) or {})
    cfg["num_classes"] = config.get("num_classes", cfg.get("num_classes"))
    return LoadedModel(net, cfg, list(classes) if classes else None, None, str(Path(checkpoint)), config)


def _from_registry(name: str, weights: str | Path | None, random_if_missing: bool) -> LoadedModel:
    from convlens import models
    from convlens.models import imagenet

    try:
        net = models.create(name, pretrained=True, weights=str(weights) if weights else None)
    except WeightsNotFound as exc:
        if not random_if_missing or weights:
            raise
        models.registry.entry(name)
        _reporting.warn(f"no pretrained weights for {name} ({exc}); using a randomly initialised model")
        net = models.create(name)
    except UnknownName:
        raise
    cfg = dict(getattr(net, "pretrained_cfg", {}) or {})
    wnids = list(cfg["labels"]) if cfg.get("labels") else None
    classes = [imagenet.label_of(w) for w in wnids] if wnids else None
    return LoadedModel(net.eval(), cfg, classes, wnids, name)


def decode_names(loaded: LoadedModel) -> list[str] | None:
    """Class names for ``decode_predictions`` (``None`` means ImageNet: wnid + label)."""
    if loaded.wnids or (loaded.classes is None and loaded.outputs == 1000):
        return None
    return loaded.class_names()
