"""Score-CAM (Wang et al., CVPRW 2020, arXiv:1910.01279), exact and a fast top-N mode."""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from convlens.explain.cam.base import CamExplainer, register_explainer
from convlens.labels import class_scores

log = logging.getLogger(__name__)


def channel_masks(activations: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Each channel upsampled to the input size (bilinear, corners aligned) and min-max scaled to [0, 1]."""
    up = F.interpolate(activations, size=size, mode="bilinear", align_corners=True)
    flat = up.flatten(2)
    low = flat.min(dim=2).values[..., None, None]
    high = flat.max(dim=2).values[..., None, None]
    return (up - low) / (high - low + 1e-8)


@register_explainer("scorecam", paper="Wang et al. 2020, Score-CAM")
class ScoreCam(CamExplainer):
    """Score-CAM: ``w_k = softmax_k(y_c(X * s(Up(A_k))))`` where ``s`` min-max scales a map to [0, 1];
    the class score of the input masked by each channel weighs that channel (softmax over channels of
    the masked-input logit, as pytorch-grad-cam). No gradients.

    Exact mode scores every channel, ``batch_size`` masked images per forward pass, under
    ``torch.inference_mode``; channels whose mask is all zero share one forward pass (same input).
    """

    needs_gradients = False
    top_n: int | None = None
    batch_size: int = 32

    def channel_weights(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        assert self.inputs is not None and self.classes is not None
        rows = [
            self._sample_weights(activations[i : i + 1], self.inputs[i], int(self.classes[i]))
            for i in range(activations.shape[0])
        ]
        return torch.stack(rows)

    def candidates(self, activations: torch.Tensor, image: torch.Tensor, cls: int) -> torch.Tensor:
        """Channels to score (all of them in exact mode)."""
        return torch.arange(activations.shape[1], device=activations.device)

    def _sample_weights(self, activations: torch.Tensor, image: torch.Tensor, cls: int) -> torch.Tensor:
        chosen = self.candidates(activations, image, cls)
        masks = channel_masks(activations[:, chosen], tuple(image.shape[-2:]))[0]
        scores = self._masked_scores(image, masks, cls)
        weights = torch.zeros(activations.shape[1], device=activations.device)
        weights[chosen] = torch.softmax(scores, dim=0)
        return weights

    def _masked_scores(self, image: torch.Tensor, masks: torch.Tensor, cls: int) -> torch.Tensor:
        empty = masks.flatten(1).amax(dim=1) <= 0
        scores = torch.empty(masks.shape[0])
        live = torch.nonzero(~empty).flatten()
        if bool(empty.any()):
            scores[empty] = self._score_batch(torch.zeros_like(image)[None], cls)[0]
        for start in range(0, len(live), self.batch_size):
            idx = live[start : start + self.batch_size]
            scores[idx] = self._score_batch(image[None] * masks[idx, None], cls)
        return scores

    def _score_batch(self, batch: torch.Tensor, cls: int) -> torch.Tensor:
        bf16 = self.precision == "bf16"
        with torch.inference_mode(), torch.autocast(batch.device.type, torch.bfloat16, enabled=bf16):
            logits = self.model(batch.contiguous(memory_format=torch.channels_last)).float()
        return class_scores(logits, torch.full((logits.shape[0],), cls, dtype=torch.long)).cpu()


@register_explainer("scorecam-fast", paper="Wang et al. 2020, Score-CAM (top-N channels)")
class FastScoreCam(ScoreCam):
    """Score-CAM on the ``top_n`` channels ranked by a feature-space Score-CAM.

    The ranking runs only the layers after the target layer: the feature map masked by each of its own
    (min-max scaled) channels goes through the head in one batch (a forward hook swaps the layer's output),
    and the channels whose masked features score highest are then scored exactly on masked images.
    Channels outside the top N get weight 0. Falls back to ranking by ``mean(A_k)`` when the model
    cannot take a different batch size after the layer (a skip connection around it).
    """

    top_n: int = 64

    def candidates(self, activations: torch.Tensor, image: torch.Tensor, cls: int) -> torch.Tensor:
        n = min(self.top_n, activations.shape[1])
        try:
            rank = self._feature_scores(activations, image, cls)
        except RuntimeError as exc:
            log.info("feature-space ranking failed (%s); ranking channels by mean activation", exc)
            rank = activations.mean(dim=(0, 2, 3))
        return rank.topk(n).indices

    def _feature_scores(self, activations: torch.Tensor, image: torch.Tensor, cls: int) -> torch.Tensor:
        masks = channel_masks(activations, tuple(activations.shape[-2:]))[0]
        layer = dict(self.model.named_modules())[self.layer_name]
        scores = []
        for start in range(0, masks.shape[0], 256):
            stack = activations * masks[start : start + 256, None]
            handle = layer.register_forward_hook(lambda _m, _i, _o, s=stack: s)
            try:
                scores.append(self._score_batch(image[None], cls))
            finally:
                handle.remove()
        return torch.cat(scores)
