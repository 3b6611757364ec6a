"""Finding a layer by name: the one lookup that training (``--unfreeze-from``) and explanations (``--layer``) use."""

from __future__ import annotations

from torch import nn

from convlens.errors import LayerNotFound


def layer_names(model: nn.Module) -> list[str]:
    """The model's named layers in forward order (``model.layer_names()`` when it has one, else every module)."""
    if hasattr(model, "layer_names"):
        return list(model.layer_names())
    return [name for name, _ in model.named_modules() if name]


def get_layer(model: nn.Module, name: str) -> nn.Module:
    """The sub-module called ``name``: a ``named_modules`` path (``layer4``, ``base.blocks.11``) or the unique
    path that ends with it (``block5_conv1``, ``blocks.11`` inside a transfer model).

    Raises:
        LayerNotFound: no such layer, or the name is ambiguous; the message lists the model's layers.
    """
    modules = dict(model.named_modules())
    if name and name in modules:
        return modules[name]
    base = getattr(model, "base", None)  # a transfer model names its base's layers as the base does
    if isinstance(base, nn.Module) and name in layer_names(base):
        return get_layer(base, name)
    matches = [module for path, module in modules.items() if name and path.endswith("." + name)]
    if len(matches) == 1:
        return matches[0]
    names = layer_names(model)
    shown = ", ".join(names[-12:]) + (f" (last 12 of {len(names)} shown)" if len(names) > 12 else "")
    why = f"{len(matches)} layers end with {name!r}" if matches else f"model has no layer {name!r}"
    raise LayerNotFound(f"{why}; choose one of: {shown}")
