"""LayerCAM (Jiang et al., IEEE TIP 2021, doi:10.1109/TIP.2021.3089943)."""

from __future__ import annotations

import torch

from convlens.explain.cam.base import CamExplainer, register_explainer


@register_explainer("layercam", paper="Jiang et al. 2021, LayerCAM")
class LayerCam(CamExplainer):
    """LayerCAM: element-wise weights, map = ReLU(sum_k ReLU(dy_c/dA_k(i, j)) A_k(i, j))."""

    def weighted_map(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        assert gradients is not None
        return (gradients.clamp_min(0) * activations).sum(dim=1)
