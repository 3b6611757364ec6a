"""What an export starts from and what it writes beside the graph: the model behind a run folder, a model name or
a module (``load_source``), the photos it is checked on, and the metadata of the file (``build_metadata``,
``read_metadata``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens._extras import require_extra
from convlens.data.folders import collect_images
from convlens.errors import DataError, UnknownName, WeightsNotFound
from convlens.models import _onnx

SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}
VERIFY_IMAGES = 8
TORCHSCRIPT_METADATA = "convlens.json"


@dataclass
class _Source:
    """A model to export and what its outputs mean."""

    model: nn.Module
    name: str
    classes: list[str] | None
    label_mode: str | None
    run_dir: Path | None = None
    data: str | None = None


def load_source(source: str | Path | nn.Module) -> _Source:
    """The model behind ``source`` (a run folder, a pretrained model name or a model object)."""
    if isinstance(source, nn.Module):
        name = getattr(source, "model_name", None) or type(source).__name__
        # a copy: the caller's model keeps its mode, device and weights
        return _Source(copy.deepcopy(source), name, _imagenet_classes(source), None)
    from convlens import models

    path = Path(source)
    if path.exists():
        from convlens.train import load_run

        model, config = load_run(path)
        run_dir = path.parent if path.is_file() else path
        data = (config.get("train") or {}).get("data")
        return _Source(model, config["model"], config.get("classes"), config.get("label_mode"), run_dir, data)
    name = str(source)
    if name not in models.registry:
        raise UnknownName(
            f"{name!r} is neither a run folder nor a model name; give a folder written by `convlens train` or "
            f"one of: {', '.join(models.registry.names())}"
        )
    if models.registry.entry(name).meta["weights"] is None:
        raise WeightsNotFound(
            f"{name} has no pretrained weights to export; train it (`convlens train --model {name}`) and export "
            f"the run folder"
        )
    model = models.create(name, pretrained=True)
    return _Source(model, name, _imagenet_classes(model), None)


def _imagenet_classes(model: nn.Module) -> list[str] | None:
    labels = (getattr(model, "pretrained_cfg", None) or {}).get("labels")
    return list(labels) if labels else None


def default_out(item: _Source, fmt: str) -> Path:
    """``RUN/model.onnx`` for a run, ``./<name>.onnx`` otherwise (``.pt`` for TorchScript)."""
    suffix = SUFFIXES[fmt]
    return item.run_dir / f"model{suffix}" if item.run_dir is not None else Path(f"{item.name}{suffix}")


def verification_images(
    item: _Source, images: Sequence[str | Path] | None, count: int = VERIFY_IMAGES
) -> list[Path]:
    """Photos to verify on: ``images``, else up to ``count`` spread over the run's data or ``pets-mini``."""
    if images:
        return collect_images(images)[0]
    from convlens.data.builtin import PETS_MINI_DIR, builtin_pool

    folder = PETS_MINI_DIR
    if item.data:
        folder = builtin_pool(item.data) or Path(item.data)
    try:
        files = collect_images([folder])[0]
    except DataError:  # MNIST IDX files, built-in arrays, a moved folder: any real photos will do
        files = collect_images([PETS_MINI_DIR])[0]
    step = max(1, len(files) // count)
    return files[::step][:count]


def build_metadata(item: _Source, outputs: int, fast: bool) -> dict[str, str]:
    """What a runtime needs to feed the model and read its outputs, as string key -> JSON value."""
    from convlens import __version__
    from convlens.models import imagenet

    cfg = item.model.pretrained_cfg
    label_mode = item.label_mode or ("binary" if outputs == 1 else "categorical")
    classes = item.classes
    values: dict[str, Any] = {
        "convlens_version": __version__,
        "model": item.name,
        "input_name": "input",
        "output_name": "logits",
        "input_size": list(cfg["input_size"]),
        "layout": "NCHW",
        "color": "RGB" if cfg["input_size"][0] == 3 else "L",
        "pixel_scale": 1 / 255,
        "mean": list(cfg["mean"]) if cfg.get("mean") is not None else None,
        "std": list(cfg["std"]) if cfg.get("std") is not None else None,
        "interpolation": cfg.get("interpolation") or "bilinear",
        "crop_pct": float(cfg.get("crop_pct") or 1.0),
        "crop_mode": cfg.get("crop_mode") or "resize_then_crop",
        "classes": classes,
        "class_labels": [imagenet.label_of(w) for w in classes] if _is_imagenet(classes) else None,
        "label_mode": label_mode,
        "output": (
            "one logit: sigmoid(logit) is the probability of classes[1]"
            if outputs == 1
            else "one logit per class: softmax gives the probabilities"
        ),
        "fast": fast,
    }
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def _is_imagenet(classes: list[str] | None) -> bool:
    from convlens.models import imagenet

    return bool(classes) and list(classes) == imagenet.wnids()


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata :func:`export_model` stored in an ONNX or TorchScript file, JSON values decoded."""
    path = Path(path)
    if path.suffix == ".onnx":
        require_extra("export", "Reading ONNX metadata")
        raw = _onnx.read_onnx_metadata(path)
    else:
        files = {TORCHSCRIPT_METADATA: ""}
        torch.jit.load(str(path), map_location="cpu", _extra_files=files)
        raw = json.loads(files[TORCHSCRIPT_METADATA] or "{}")
    return {k: _decode(v) for k, v in raw.items()}


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
