"""The optimizers ``--optimizer`` can name, written once (the config's choices read this table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _rmsprop(params: Any, lr: float) -> Any:
    import torch

    return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)  # Keras' defaults (rho 0.9, epsilon 1e-7)


def _adam(params: Any, lr: float) -> Any:
    import torch

    return torch.optim.Adam(params, lr=lr, eps=1e-7)


def _sgd(params: Any, lr: float) -> Any:
    import torch

    return torch.optim.SGD(params, lr=lr, momentum=0.9)


OPTIMIZERS: dict[str, Callable[[Any, float], Any]] = {"rmsprop": _rmsprop, "adam": _adam, "sgd": _sgd}
