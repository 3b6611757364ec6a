"""Weight initialisations ``--init`` can name for a network trained from scratch, written once.

``torch`` keeps what each PyTorch layer does on construction (Kaiming-uniform with a = sqrt(5), biases uniform in
±1/sqrt(fan_in)). ``keras`` is what the seed's Keras models start from: Glorot-uniform weights, drawn from
U(-b, b) with b = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010), and zero biases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _torch(model: Any) -> None:
    """PyTorch's per-layer defaults, already applied when the layers were built."""


def _keras(model: Any) -> None:
    from torch import nn  # here, so that reading the config does not import torch

    # fan_in/fan_out of a conv kernel are C_in·k·k and C_out·k·k in both frameworks, so the bound is Keras' own
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


INITS: dict[str, Callable[[Any], None]] = {"torch": _torch, "keras": _keras}
