"""Grad-CAM (Selvaraju et al., ICCV 2017, arXiv:1610.02391)."""

from __future__ import annotations

import torch

from convlens.explain.cam.base import CamExplainer, register_explainer


@register_explainer("gradcam", paper="Selvaraju et al. 2017, Grad-CAM")
class GradCam(CamExplainer):
    """Grad-CAM: ``w_k = mean_ij dy_c/dA_k(i, j)``; map = ReLU(sum_k w_k A_k).

    The seed's recipe (SPEC step 10): gradients of the class score averaged per channel weight the channels.
    """

    def channel_weights(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        assert gradients is not None
        return gradients.mean(dim=(2, 3))
