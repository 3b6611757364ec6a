"""The model contract every convlens network follows (timm-style).

``forward_features`` gives the last spatial feature map, ``forward_head`` turns it into logits,
``get_classifier``/``reset_classifier`` name and replace the last linear layer, ``layer_names`` lists the
book-named layers in forward order and ``pretrained_cfg`` carries input size and normalisation.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from convlens.errors import ConfigError


def make_cfg(
    input_size: tuple[int, int, int],
    num_classes: int,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    interpolation: str = "bilinear",
    crop_pct: float = 1.0,
    labels: list[str] | None = None,
    crop_mode: str = "resize_then_crop",
) -> dict[str, Any]:
    """A ``pretrained_cfg`` dict: what inputs the model expects and what its outputs mean."""
    return {
        "input_size": tuple(int(v) for v in input_size),
        "mean": tuple(mean) if mean is not None else None,
        "std": tuple(std) if std is not None else None,
        "interpolation": interpolation,
        "crop_pct": crop_pct,
        "num_classes": num_classes,
        "labels": labels,
        "crop_mode": crop_mode,
    }


def as_input_size(input_size: Any, default: tuple[int, int, int]) -> tuple[int, int, int]:
    """``(C, H, W)`` from ``None`` (the default), an int (square, default channels) or a 2/3-tuple."""
    if input_size is None:
        return default
    if isinstance(input_size, int):
        return (default[0], input_size, input_size)
    size = tuple(int(v) for v in input_size)
    if len(size) == 2:
        return (default[0], *size)  # type: ignore[return-value]
    if len(size) != 3:
        raise ValueError(f"input_size must be (C, H, W), (H, W) or an int, not {input_size!r}")
    return size  # type: ignore[return-value]


class ConvClassifier(nn.Module):
    """Base class of convlens networks.

    Subclasses build ``self.<classifier_attr>`` (an ``nn.Linear``, or ``nn.Identity`` without a top), fill
    ``self._layer_names`` and implement ``forward_features`` and ``forward_head``.
    """

    classifier_attr: str = "classifier"

    def __init__(self) -> None:
        super().__init__()
        self._layer_names: list[str] = []
        self.pretrained_cfg: dict[str, Any] = {}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (one per class; a single logit for binary models)."""
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        """The last layer that maps features to logits."""
        return getattr(self, self.classifier_attr)

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier by a freshly initialised one with ``num_classes`` outputs."""
        old = self.get_classifier()
        if not isinstance(old, nn.Linear):
            raise ConfigError(
                f"{type(self).__name__} was built without a classifier (include_top=False); build it with the top"
            )
        setattr(self, self.classifier_attr, type(old)(old.in_features, num_classes))
        self.pretrained_cfg = {**self.pretrained_cfg, "num_classes": num_classes, "labels": None}

    def layer_names(self) -> list[str]:
        """The named layers (paths of ``named_modules``) in forward order."""
        return list(self._layer_names)


class Conv2dAct(nn.Conv2d):
    """A convolution followed by its activation, like a Keras ``Conv2D(..., activation=...)`` layer.

    Hooks on it see the activated output, as Keras' ``layer.output`` does; the weights keep plain
    ``weight``/``bias`` names.
    """

    def __init__(self, *args: Any, activation: nn.Module | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.activation = activation if activation is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(super().forward(x))


class LinearAct(nn.Linear):
    """A dense layer followed by its activation (Keras ``Dense(..., activation=...)``)."""

    def __init__(self, *args: Any, activation: nn.Module | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.activation = activation if activation is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(super().forward(x))


def smallest_input(model: nn.Module, channels: int, upper: int) -> int | None:
    """The smallest square side (8..``upper``) the model's features run at, or ``None`` when none does."""

    def runs(side: int) -> bool:
        try:
            with torch.no_grad():
                model.forward_features(torch.zeros(1, channels, side, side))
        except RuntimeError:
            return False
        return True

    was_training = model.training
    model.eval()
    try:
        if not runs(upper):
            return None
        low, high = 8, upper
        while low < high:
            mid = (low + high) // 2
            low, high = (low, mid) if runs(mid) else (mid + 1, high)
        return low
    finally:
        model.train(was_training)


def check_input_size(model: nn.Module, input_size: tuple[int, int, int], name: str) -> None:
    """Raise :class:`ConfigError` naming the smallest size that works when ``model`` cannot run at ``input_size``."""
    channels, height, width = input_size
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model.forward_features(torch.zeros(1, channels, height, width))
        return
    except RuntimeError:
        pass
    finally:
        model.train(was_training)
    smallest = smallest_input(model, channels, 512)
    hint = (
        f"the smallest it takes is {smallest} px" if smallest else "it does not run at any size up to 512 px"
    )
    raise ConfigError(f"{name} cannot run at {height}x{width} ({hint}); choose a larger --image-size")
