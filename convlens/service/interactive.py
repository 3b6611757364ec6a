"""One photo in memory: top-k classes, class activation maps, overlays and faithfulness, without writing files.

The file-based actions (:func:`convlens.service.predict`, :func:`convlens.service.explain`) stream folders to
disk; a server or a notebook that holds one photo uses these instead. They are built on the same pieces (one
decoder, one preprocessing, the explainer registry, the label-mode rules) and hold the model's lock while
they use it, so threads may share one :class:`~convlens.models.loaded.LoadedModel`.

>>> photo = open_photo("elephant.jpg")
>>> classify(loaded, photo, topk=3)[0]["label"]
'African_elephant'
>>> [found] = explain_photo(loaded, photo, ["gradcam"], target="African_elephant")
>>> overlay_photo(photo, found.heatmap).shape == photo.shape
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from convlens import _reporting
from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError, DataError
from convlens.models.loaded import LoadedModel

# What the decoder's reasons mean for whoever sent the file (a server maps them to status codes).
_KINDS = (
    ("not an image", "not_an_image"),
    ("decompression bomb", "too_many_pixels"),
    ("empty file", "empty"),
    ("zero width", "empty"),
)


class PhotoError(DataError):
    """A file that cannot be used as a photo; ``kind`` is ``not_an_image``, ``too_many_pixels``, ``empty``
    or ``corrupt`` (truncated or damaged)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class PhotoMap:
    """One method's map for one photo.

    Attributes:
        method: the explainer's registry name.
        cls: the class explained (an index) and ``class_name`` its name.
        score: the explained class's score (logit; ``-z`` for class 0 of a single-logit model).
        layer: the layer the map was taken at.
        heatmap: float32 ``(h, w)`` in [0, 1] at the model's input size (the whole photo resized, so it lines
            up with the photo), as ``convlens explain`` saves it in ``<method>.npy``.
        peak: ``(x, y)`` of the map's maximum in the photo's own pixels.
    """

    method: str
    cls: int
    class_name: str
    score: float
    layer: str
    heatmap: np.ndarray
    peak: tuple[int, int]


def open_photo(path: str | os.PathLike[str], channels: int = 3, max_pixels: int | None = None) -> np.ndarray:
    """Decode a photo at its own size (EXIF orientation applied, bomb guard on): uint8 ``(H, W, 3)`` or ``(H, W)``.

    Raises:
        PhotoError: the file is not a usable image; ``kind`` says why.
    """
    from convlens.data.images import MAX_PIXELS, BadImage, read_photo

    try:
        return read_photo(path, channels, max_pixels or MAX_PIXELS)
    except BadImage as exc:
        kind = next((k for text, k in _KINDS if text in exc.reason), "corrupt")
        raise PhotoError(f"the file is not a usable image: {exc.reason}", kind) from None


def classify(loaded: LoadedModel, photo: np.ndarray, topk: int = 5) -> list[dict[str, Any]]:
    """The ``topk`` classes of one photo, most probable first: ``{"index", "wnid", "label", "prob"}``.

    Preprocessing is ``convlens predict``'s (resize and centre crop as the weights expect); ``wnid`` is the
    ImageNet WordNet id for ImageNet heads, else the class name.
    """
    import torch

    from convlens.labels import probabilities
    from convlens.models.imagenet import decode_predictions
    from convlens.models.preprocess import model_input
    from convlens.service.sources import decode_names

    if topk < 1:
        raise ConfigError(f"topk must be at least 1; got {topk}")
    x = model_input(photo, loaded.cfg, crop=True)[None].to(loaded.device)
    with loaded.lock, torch.inference_mode():
        probs = probabilities(loaded.model.eval()(x))
    names = decode_names(loaded)
    [top] = decode_predictions(probs, top=min(topk, probs.shape[1]), classes=names)
    keys = loaded.wnids if names is None and loaded.wnids else loaded.class_names()
    return [{"index": keys.index(wnid), "wnid": wnid, "label": label, "prob": prob} for wnid, label, prob in top]


def explain_photo(
    loaded: LoadedModel,
    photo: np.ndarray,
    methods: Sequence[str] = ("gradcam",),
    target: str | int | None = None,
    layer: str | None = None,
    precision: str = "fp32",
    reporter: Reporter | None = None,
) -> list[PhotoMap]:
    """Maps of one photo for each method (``target``: a class index, name or WordNet id; default the top).

    A reporter sees one progress step per method and may stop between methods by raising
    :class:`convlens.errors.Cancelled`.

    Raises:
        UnknownName: a method is not registered (the message lists them).
        ExplainError / LayerNotFound: the class or layer does not fit the model.
    """
    from convlens.explain.cam import create_explainer, explainers
    from convlens.models.preprocess import model_input

    for method in methods:
        explainers.entry(method)
    cls = loaded.class_index(target)
    names = loaded.class_names()
    x = model_input(photo, loaded.cfg)
    found = []
    with use_reporter(reporter), loaded.lock:
        for method in _reporting.track(list(methods), "explaining"):
            result = create_explainer(method, loaded.model, layer, precision)(x, target=cls)
            heatmap = result.maps[0].float().cpu().numpy()
            index = int(result.classes[0])
            found.append(
                PhotoMap(
                    method,
                    index,
                    names[index] if index < len(names) else str(index),
                    float(result.scores[0]),
                    result.layer,
                    heatmap,
                    map_peak(heatmap, photo.shape[:2]),
                )
            )
    return found


def map_peak(heatmap: np.ndarray, photo_size: tuple[int, int]) -> tuple[int, int]:
    """``(x, y)`` in photo pixels of the maximum of a map laid over the photo (first maximum on ties)."""
    height, width = heatmap.shape
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    # pixel centres: map cell (col + 0.5) of width w covers photo x = (col + 0.5) * W / w
    x = int(min(photo_size[1] - 1, (col + 0.5) * photo_size[1] / width))
    y = int(min(photo_size[0] - 1, (row + 0.5) * photo_size[0] / height))
    return x, y


def overlay_photo(photo: np.ndarray, heatmap: np.ndarray, cmap: str = "jet", intensity: float = 0.4) -> np.ndarray:
    """The map coloured with ``cmap`` and added to the photo at ``intensity`` (the book's 0.4), at the photo's size."""
    from convlens.explain.overlay import overlay

    if not 0.0 <= intensity <= 1.0:
        raise ConfigError(f"overlay intensity must be between 0 and 1; got {intensity}")
    return overlay(photo, heatmap, intensity=intensity, cmap=cmap)


def colormaps() -> tuple[str, ...]:
    """The overlay colormaps (``jet`` is the book's; the others are colour-blind-safe)."""
    from convlens.explain.overlay import CMAPS

    return tuple(CMAPS)


def colormap_table(cmap: str = "jet") -> np.ndarray:
    """``(256, 3)`` uint8: the colour of each map value 0..255 under ``cmap`` (what overlays use)."""
    from convlens.explain.overlay import colorize

    return colorize(np.linspace(0.0, 1.0, 256, dtype=np.float32)[None], cmap)[0]


def faithfulness(loaded: LoadedModel, photo: np.ndarray, found: PhotoMap) -> dict[str, float]:
    """Deletion / insertion AUC, average drop and increase in confidence of one map (see
    :mod:`convlens.explain.metrics`): low deletion and drop, high insertion and increase are better."""
    import torch

    from convlens.explain.metrics import deletion_insertion, drop_and_increase
    from convlens.models.preprocess import model_input

    x = model_input(photo, loaded.cfg).to(loaded.device)
    heatmap = torch.from_numpy(np.ascontiguousarray(found.heatmap, dtype=np.float32)).to(loaded.device)
    if tuple(heatmap.shape) != tuple(x.shape[-2:]):
        raise ConfigError(f"the map is {tuple(heatmap.shape)} but the model input is {tuple(x.shape[-2:])}")
    with loaded.lock:
        loaded.model.eval()
        deletion, insertion = deletion_insertion(loaded.model, x, heatmap, found.cls)
        drop, increase = drop_and_increase(loaded.model, x, heatmap, found.cls)
    return {
        "deletion_auc": deletion,
        "insertion_auc": insertion,
        "average_drop": drop,
        "increase_in_confidence": increase,
    }


def methods() -> list[str]:
    """The explanation methods by registry name (``gradcam`` first: the book's)."""
    from convlens.explain.cam import explainers

    names = list(explainers.names())
    return sorted(names, key=lambda n: (n != "gradcam", n))
