"""XGrad-CAM (Fu et al., BMVC 2020, arXiv:2008.02312)."""

from __future__ import annotations

import torch

from convlens.explain.cam.base import CamExplainer, register_explainer


@register_explainer("xgradcam", paper="Fu et al. 2020, Axiom-based Grad-CAM")
class XGradCam(CamExplainer):
    """XGrad-CAM: ``w_k = sum_ij (A_k(i, j) / sum_ab A_k(a, b)) dy_c/dA_k(i, j)`` (axioms of sensitivity and conservation)."""

    eps: float = 1e-7

    def channel_weights(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        assert gradients is not None
        total = activations.sum(dim=(2, 3), keepdim=True)
        return (gradients * activations / (total + self.eps)).sum(dim=(2, 3))
