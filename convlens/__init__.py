"""convlens: train convolutional image classifiers and see what they learned.

The public API, imported on first use so that ``import convlens`` (and the CLI) stays fast::

    import convlens
    splits = convlens.resolve_dataset("pets-mini", image_size=150)
    model = convlens.create("small_convnet", num_classes=1)
    run = convlens.train(data="pets-mini", model="small_convnet", epochs=2, out="runs/demo")
    metrics = convlens.evaluate_run(run.out)
    net, config = convlens.load_run(run.out)
    maps = convlens.create_explainer("gradcam", net)(images).maps

Everything under a ``_private`` name is infrastructure.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from convlens.errors import ConvlensError

__version__ = "0.1.0"

# A library logs, it does not print: without a handler configured by the application, nothing is shown.
logging.getLogger(__name__).addHandler(logging.NullHandler())

_SUBPACKAGES = {"data", "models", "train", "explain", "report", "service", "runs"}
_EXPORTS = {
    "resolve_dataset": "convlens.data",
    "split_pool": "convlens.data",
    "Augmentation": "convlens.data",
    "BatchLoader": "convlens.data",
    "create": "convlens.models",
    "load_checkpoint": "convlens.models",
    "save_checkpoint": "convlens.models",
    "TrainConfig": "convlens.train",
    "Run": "convlens.train",
    "load_run": "convlens.runs",
    "RunDir": "convlens.runs",
    "evaluate_run": "convlens.train",
    "create_explainer": "convlens.explain.cam",
    "show": "convlens.report.html.notebook",
    "export_model": "convlens.models.export",
}

__all__ = [
    "Augmentation",
    "BatchLoader",
    "ConvlensError",
    "Run",
    "RunDir",
    "TrainConfig",
    "__version__",
    "create",
    "create_explainer",
    "data",
    "evaluate_run",
    "explain",
    "export_model",
    "load_checkpoint",
    "load_run",
    "models",
    "report",
    "resolve_dataset",
    "runs",
    "save_checkpoint",
    "service",
    "show",
    "split_pool",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"convlens.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'convlens' has no attribute {name!r}")
