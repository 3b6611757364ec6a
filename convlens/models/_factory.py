"""The model registry and ``create``: a name is written once, where its factory is defined."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from torch import nn

from convlens._registry import Registry
from convlens.models._base import as_input_size

log = logging.getLogger(__name__)

Factory = Callable[..., nn.Module]
registry: Registry[Factory] = Registry("model")


def register_model(
    name: str,
    family: str,
    default_input_size: tuple[int, int, int],
    num_classes: int = 1000,
    weights: Any = None,
    description: str = "",
    finetune_from: str | None = None,
) -> Callable[[Factory], Factory]:
    """Register ``factory(num_classes, input_size, **kwargs) -> nn.Module`` under ``name``.

    Args:
        name: the model name users type (``small_convnet``, ``vgg16``, ...).
        family: a group for listings (``small``, ``vgg``, ``resnet``, ``torchvision``, ``efficientnet``).
        default_input_size: ``(C, H, W)`` used when ``create`` gets no ``input_size``.
        num_classes: outputs when ``create`` gets no ``num_classes`` (1000 for ImageNet heads).
        weights: a :class:`convlens.models.weights.WeightsSpec` when pretrained weights exist.
        description: one line for ``convlens models list``.
        finetune_from: the first layer ``--mode finetune`` trains again by default (the last block).
    """
    return registry.register(
        name,
        family=family,
        default_input_size=tuple(default_input_size),
        num_classes=num_classes,
        weights=weights,
        description=description,
        finetune_from=finetune_from,
    )


def create(
    name: str,
    num_classes: int | None = None,
    pretrained: bool = False,
    weights: str | None = None,
    input_size: Any = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a registered model.

    Args:
        name: a name from ``registry.names()``.
        num_classes: outputs of the head (1 = one logit for a binary model); default: the model's own.
        pretrained: load the model's pretrained (ImageNet) weights, offline; the head is reset when
            ``num_classes`` differs from the weights' classes.
        weights: an explicit weights file (``.safetensors`` or ``.pth``); implies ``pretrained``.
        input_size: ``(C, H, W)``, ``(H, W)`` or an int; default: the model's default input size.
        **kwargs: model options (``dropout``, ``include_top``, ``plain``, ...).

    Returns:
        The model, in training mode, returning logits.
    """
    entry = registry.entry(name)
    size = as_input_size(input_size, entry.meta["default_input_size"])
    n_out = int(num_classes or entry.meta["num_classes"])
    spec = entry.meta["weights"]
    if not (pretrained or weights):
        return _named(entry.obj(num_classes=n_out, input_size=size, **kwargs), name, kwargs)
    from convlens.models.weights import load_pretrained

    if spec is None and weights is None:
        from convlens.errors import WeightsNotFound

        raise WeightsNotFound(
            f"{name} has no pretrained weights; train it (`convlens train --model {name}`) or drop --pretrained"
        )
    head = spec.num_classes if spec is not None else n_out
    model = entry.obj(num_classes=head, input_size=size, **kwargs)
    load_pretrained(model, name, spec, weights)
    if not isinstance(model.get_classifier(), nn.Linear):  # a conv base (include_top=False): no head to reset
        return _named(model, name, kwargs)
    if head != n_out:
        log.info("%s: reset the %d-class head to %d classes", name, head, n_out)
        model.reset_classifier(n_out)
    elif head == 1000:
        from convlens.models.imagenet import wnids

        model.pretrained_cfg["labels"] = wnids()
    return _named(model, name, kwargs)


def _named(model: nn.Module, name: str, kwargs: dict[str, Any]) -> nn.Module:
    """Remember how the model was built, so a checkpoint can rebuild it."""
    model.model_name = name
    model.model_kwargs = dict(kwargs)
    return model
