"""Grad-CAM++ (Chattopadhay et al., WACV 2018, arXiv:1710.11063)."""

from __future__ import annotations

import torch

from convlens.explain.cam.base import CamExplainer, register_explainer


@register_explainer("gradcam++", paper="Chattopadhay et al. 2018, Grad-CAM++")
class GradCamPlusPlus(CamExplainer):
    """Grad-CAM++: ``w_k = sum_ij a_kij ReLU(g_kij)`` with
    ``a_kij = g^2 / (2 g^2 + sum_ab A_kab g^3)`` (eq. 19, exponential-score closed form), ``a = 0`` where ``g = 0``.
    """

    eps: float = 1e-6

    def channel_weights(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        assert gradients is not None
        g2 = gradients.pow(2)
        total = activations.sum(dim=(2, 3), keepdim=True)
        alpha = g2 / (2 * g2 + total * g2 * gradients + self.eps)
        alpha = torch.where(gradients != 0, alpha, torch.zeros_like(alpha))
        return (alpha * gradients.clamp_min(0)).sum(dim=(2, 3))
