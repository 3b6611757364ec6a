"""HiResCAM (Draelos & Carin, 2020, arXiv:2011.08891)."""

from __future__ import annotations

import torch

from convlens.explain.cam.base import CamExplainer, register_explainer


@register_explainer("hirescam", paper="Draelos & Carin 2020, HiResCAM")
class HiResCam(CamExplainer):
    """HiResCAM: element-wise, map = ReLU(sum_k dy_c/dA_k(i, j) * A_k(i, j)); faithful to the score
    for models whose head is a linear function of the feature map."""

    def weighted_map(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        assert gradients is not None
        return (gradients * activations).sum(dim=1)
