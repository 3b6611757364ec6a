"""CAM (Zhou et al., CVPR 2016, arXiv:1512.04150): for nets with global average pooling and one linear layer."""

from __future__ import annotations

import torch
from torch import nn

from convlens.errors import ExplainError
from convlens.explain.cam.base import CamExplainer, register_explainer


@register_explainer("cam", paper="Zhou et al. 2016, Learning Deep Features for Discriminative Localization")
class Cam(CamExplainer):
    """CAM: ``w_k = W[c, k]``, the weight of the final linear layer from channel k to class c
    (map = sum_k W[c, k] A_k), as seed 001 (VGG19 + GAP). Needs ``model.get_classifier()`` (or the last
    ``nn.Linear``) fed by the global average of the target layer; for a single-logit binary model
    the negative class uses ``-W[0]``."""

    needs_gradients = False

    def channel_weights(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        assert self.classes is not None
        weight = self._classifier().weight.detach().float()
        if weight.shape[1] != activations.shape[1]:
            raise ExplainError(
                f"CAM needs a linear layer on the pooled features, but it takes {weight.shape[1]} "
                f"inputs and the layer has {activations.shape[1]} channels; use gradcam instead"
            )
        if weight.shape[0] == 1:
            return weight[0][None] * (self.classes.float() * 2 - 1)[:, None]
        return weight[self.classes]

    def _classifier(self) -> nn.Linear:
        head = self.model.get_classifier() if hasattr(self.model, "get_classifier") else None
        if not isinstance(head, nn.Linear):
            linears = [m for m in self.model.modules() if isinstance(m, nn.Linear)]
            if not linears:
                raise ExplainError(
                    "CAM needs a final nn.Linear layer after global average pooling; use gradcam"
                )
            head = linears[-1]
        return head
