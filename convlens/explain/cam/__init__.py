"""The CAM family: one template (:mod:`.base`), one small file per method, all in one registry.

>>> from convlens.explain.cam import explainers, create_explainer
>>> result = create_explainer("gradcam", model)(images)   # result.maps: (B, H, W) in [0, 1]
"""

from __future__ import annotations

from torch import nn

from convlens.errors import ExplainError, LayerNotFound
from convlens.explain.cam import (  # noqa: F401 - importing registers the methods
    cam,
    eigencam,
    gradcam,
    gradcampp,
    guided,
    hirescam,
    layercam,
    scorecam,
    xgradcam,
)
from convlens.explain.cam._layers import auto_layer
from convlens.explain.cam.base import (
    CamExplainer,
    CamResult,
    explainers,
    register_explainer,
)
from convlens.labels import class_scores, predicted_classes
from convlens.models.layers import get_layer


def create_explainer(
    method: str, model: nn.Module, layer: str | None = None, precision: str = "fp32"
) -> CamExplainer:
    """The registered explainer ``method`` bound to ``model`` (and ``layer``, or automatic)."""
    return explainers.get(method)(model, layer=layer, precision=precision)


__all__ = [
    "CamExplainer",
    "CamResult",
    "ExplainError",
    "LayerNotFound",
    "auto_layer",
    "class_scores",
    "create_explainer",
    "explainers",
    "get_layer",
    "predicted_classes",
    "register_explainer",
]
