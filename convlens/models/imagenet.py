"""ImageNet-1k class ids (WordNet ids) and labels from a data file shipped in the package, and Keras'
``decode_predictions``.

Class index ``i`` is the ``i``-th WordNet id in sorted order; labels use Keras' spelling (``African_elephant``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import torch

from convlens.errors import ConvlensError


@lru_cache(maxsize=1)
def _classes() -> tuple[tuple[str, str], ...]:
    text = resources.files("convlens.models").joinpath("imagenet_classes.json").read_text(encoding="utf-8")
    return tuple((wnid, label) for wnid, label in json.loads(text)["classes"])


def wnids() -> list[str]:
    """The 1000 WordNet ids in class-index order."""
    return [w for w, _ in _classes()]


def labels() -> list[str]:
    """The 1000 labels in class-index order (Keras spelling)."""
    return [label for _, label in _classes()]


def label_of(wnid: str) -> str:
    """The label of a WordNet id (``n02504458`` -> ``African_elephant``)."""
    table = dict(_classes())
    if wnid not in table:
        raise ConvlensError(f"{wnid!r} is not one of the 1000 ImageNet-1k WordNet ids (e.g. 'n02504458')")
    return table[wnid]


def index_of(wnid: str) -> int:
    """The class index of a WordNet id."""
    return wnids().index(wnid)


def decode_predictions(
    probs: Any, top: int = 3, classes: list[str] | None = None
) -> list[list[tuple[str, str, float]]]:
    """Keras' ``decode_predictions``: the ``top`` classes of each row as ``(wnid, label, probability)``.

    Args:
        probs: ``(N, C)`` probabilities (tensor or array); ``C`` is 1000 for ImageNet.
        top: how many classes per row.
        classes: class names for a non-ImageNet head (then ``wnid`` and ``label`` are both the name).

    Returns:
        One list per row, most probable first.
    """
    p = (
        probs.detach().float().cpu().numpy()
        if isinstance(probs, torch.Tensor)
        else np.asarray(probs, dtype=np.float64)
    )
    if p.ndim != 2:
        raise ConvlensError(
            f"decode_predictions expects (samples, classes) probabilities, got shape {p.shape}"
        )
    names = list(zip(classes, classes)) if classes is not None else list(_classes())
    if p.shape[1] != len(names):
        raise ConvlensError(
            f"probabilities have {p.shape[1]} classes but {len(names)} names are known; pass classes="
        )
    order = np.argsort(-p, axis=1, kind="stable")[:, :top]
    return [[(names[j][0], names[j][1], float(row[j])) for j in idx] for row, idx in zip(p, order)]
