"""Test-time views ``convlens evaluate --tta`` can name, written once.

A view is a function of a normalised batch ``(N, C, H, W)``. With more than one view the model scores every view,
the class probabilities are averaged (as fastai's ``tta`` and Keras-era "test-time augmentation" do) and turned
back into logits, so accuracy, loss, the confusion matrix and the top-loss gallery all describe the averaged
prediction. ``flip`` adds the horizontally mirrored photo: the book augmentation trains on mirrored photos, so
the model has seen both; it is wrong for data whose meaning changes in a mirror (digits, text).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from convlens import labels
from convlens.errors import ConfigError

View = Callable[[torch.Tensor], torch.Tensor]


def _same(x: torch.Tensor) -> torch.Tensor:
    return x


def _mirror(x: torch.Tensor) -> torch.Tensor:
    return torch.flip(x, dims=[-1])


VIEWS: dict[str, tuple[View, ...]] = {
    "none": (_same,),
    "flip": (_same, _mirror),
}


def check_views(name: str) -> str:
    """``name`` if it is a known set of views, else a :class:`ConfigError` listing them."""
    if name not in VIEWS:
        raise ConfigError(f"--tta {name!r} is not one of: {', '.join(VIEWS)}")
    return name


@torch.no_grad()
def view_logits(model: nn.Module, x: torch.Tensor, name: str = "none") -> torch.Tensor:
    """fp32 logits of ``x``; with several views, the logits of the probabilities averaged over them."""
    views = VIEWS[check_views(name)]
    if len(views) == 1:
        return model(x).float()
    outputs = [model(view(x)).float().reshape(len(x), -1) for view in views]
    probs = torch.stack([labels.probabilities(o) for o in outputs]).mean(dim=0)
    return labels.logits_of(probs, outputs[0].shape[1])
