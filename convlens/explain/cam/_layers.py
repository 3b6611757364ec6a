"""Finding the layer to explain: by name, or automatically (the last conv layer with a spatial output)."""

from __future__ import annotations

import torch
from torch import nn

from convlens.errors import LayerNotFound
from convlens.models.layers import get_layer, layer_names  # noqa: F401  (get_layer re-exported)

_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.LeakyReLU, nn.ELU, nn.Hardswish, nn.Mish)


def _contains_conv(module: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in module.modules())


Call = tuple[str, nn.Module, tuple[int, ...], int]


def forward_order(model: nn.Module, x: torch.Tensor) -> list[Call]:
    """Run ``x`` once and list ``(name, module, output shape, output id)`` in the order the modules finished."""
    order: list[Call] = []
    keep: list[torch.Tensor] = []  # outputs stay alive so their ids stay unique
    handles = []
    for name, module in model.named_modules():
        if not name:
            continue

        def hook(mod: nn.Module, _inp: object, out: object, name: str = name) -> None:
            if isinstance(out, torch.Tensor):
                keep.append(out)
                order.append((name, mod, tuple(out.shape), id(out)))

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return order


def auto_layer(model: nn.Module, x: torch.Tensor) -> str:
    """Name of the last conv layer (or block of convs) with a spatial output, plus its activation.

    A conv layer directly followed by an element-wise activation of the same shape is explained after
    the activation, as Keras layers carry their activation (the book's ``block5_conv3``). Of the modules
    that return the very same tensor (a block and its last layer), one of the model's ``layer_names()`` is
    named when there is one (the book's names), else the innermost one called once.
    """
    order = forward_order(model, x[:1])
    spatial = [
        i for i, (_n, m, s, _o) in enumerate(order) if len(s) == 4 and s[2] * s[3] > 1 and _contains_conv(m)
    ]
    if not spatial:
        raise LayerNotFound("found no conv layer with a spatial output; pass the layer name (--layer)")
    i = spatial[-1]
    calls = [n for n, _m, _s, _o in order]
    while (
        i + 1 < len(order)
        and isinstance(order[i + 1][1], _ACTIVATIONS)
        and order[i + 1][2] == order[i][2]
        and calls.count(order[i + 1][0]) == 1  # a shared activation module is called elsewhere too
    ):
        i += 1
    same = [
        n
        for n, m, _s, out in order[: i + 1]
        if out == order[i][3] and calls.count(n) == 1 and (_contains_conv(m) or isinstance(m, _ACTIVATIONS))
    ]
    named = [n for n in same if n in set(layer_names(model))] if hasattr(model, "layer_names") else []
    return (named or same or [order[i][0]])[0]
