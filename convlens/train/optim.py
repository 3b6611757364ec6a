"""The optimizers ``--optimizer`` can name, written once (the config's choices read this table).

Each takes the parameters, the learning rate and ``--weight-decay`` (``None``: the optimizer's own default).
Weight decay is L2 added to the gradient for rmsprop, adam and sgd (as ``torch.optim`` does) and decoupled for
adamw (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _rmsprop(params: Any, lr: float, weight_decay: float | None) -> Any:
    import torch

    # Keras' defaults (rho 0.9, epsilon 1e-7)
    return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7, weight_decay=weight_decay or 0.0)


def _adam(params: Any, lr: float, weight_decay: float | None) -> Any:
    import torch

    return torch.optim.Adam(params, lr=lr, eps=1e-7, weight_decay=weight_decay or 0.0)


def _adamw(params: Any, lr: float, weight_decay: float | None) -> Any:
    import torch

    decay = 1e-2 if weight_decay is None else weight_decay  # torch's and Keras' AdamW default
    return torch.optim.AdamW(params, lr=lr, eps=1e-7, weight_decay=decay)


def _sgd(params: Any, lr: float, weight_decay: float | None) -> Any:
    import torch

    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay or 0.0)


OPTIMIZERS: dict[str, Callable[[Any, float, float | None], Any]] = {
    "rmsprop": _rmsprop,
    "adam": _adam,
    "adamw": _adamw,
    "sgd": _sgd,
}
