"""Eigen-CAM (Muhammad & Yeasin, IJCNN 2020, arXiv:2008.00299)."""

from __future__ import annotations

import torch

from convlens.explain.cam.base import CamExplainer, register_explainer


@register_explainer("eigencam", paper="Muhammad & Yeasin 2020, Eigen-CAM")
class EigenCam(CamExplainer):
    """Eigen-CAM: the projection of the centred activations (positions x channels) on their first
    right singular vector, ``M = (A - mean) v_1``. Class-agnostic, no gradients. The SVD's sign is
    arbitrary, so it is fixed: the map is flipped when it anti-correlates with the channel-mean activation
    (pytorch-grad-cam keeps whatever sign the SVD returns)."""

    needs_gradients = False

    def weighted_map(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        b, c, h, w = activations.shape
        flat = activations.double().reshape(b, c, h * w).transpose(1, 2)
        flat = flat - flat.mean(dim=1, keepdim=True)
        _u, _s, vh = torch.linalg.svd(flat, full_matrices=False)
        proj = (flat @ vh[:, 0, :, None])[..., 0]
        sign = torch.sign((proj * flat.mean(dim=2)).sum(dim=1, keepdim=True))
        return (proj * torch.where(sign == 0, torch.ones_like(sign), sign)).reshape(b, h, w).float()
