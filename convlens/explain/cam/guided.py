"""Guided backpropagation (Springenberg et al., ICLR-W 2015, arXiv:1412.6806) and Guided Grad-CAM (Selvaraju et al. 2017)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import torch
from torch import nn

from convlens.explain.cam.base import (
    CamExplainer,
    CamResult,
    TargetSpec,
    normalise_maps,
    postprocess,
    register_explainer,
    target_classes,
)
from convlens.labels import class_scores
from convlens.models.layers import get_layer


class _GuidedRelu(torch.autograd.Function):
    """Identity on a ReLU's output whose backward passes only positive gradients where the output is positive."""

    @staticmethod
    def forward(ctx: Any, out: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(out)
        return out.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (out,) = ctx.saved_tensors
        return grad.clamp_min(0) * (out > 0).to(grad.dtype)


class _GuidedHooks:
    """Forward hooks on every ``nn.ReLU`` that route its output through :class:`_GuidedRelu` (no model surgery)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.handles: list[Any] = []

    def __enter__(self) -> _GuidedHooks:  # noqa: PYI034 - typing.Self needs Python 3.11
        for module in self.model.modules():
            if isinstance(module, (nn.ReLU, nn.ReLU6)):
                self.handles.append(module.register_forward_hook(lambda _m, _i, out: _GuidedRelu.apply(out)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()


@register_explainer("guided-backprop", paper="Springenberg et al. 2015, Striving for Simplicity")
class GuidedBackprop(CamExplainer):
    """Guided backpropagation: ``dy_c/dX`` where every ReLU passes back only positive gradients at positive
    outputs. The map is ``max_colour |G|`` normalised; ``extras["gradients"]`` holds G (B, C, H, W)."""

    cut_at_layer = False
    with_cam: bool = False

    def extra_hooks(self, stack: ExitStack) -> None:
        stack.enter_context(_GuidedHooks(self.model))

    def __call__(self, x: torch.Tensor, target: TargetSpec = None) -> CamResult:
        x = self._prepare(x).requires_grad_(True)
        layer = self.resolve_layer(x.detach())
        with self.session(get_layer(self.model, layer)) as tap:
            logits = self.forward(x)
            classes = target_classes(logits, target)
            scores = class_scores(logits.float(), classes)
            acts = tap.activations
            grads_a, grads_x = torch.autograd.grad(scores.sum(), [acts, x])
        guided = grads_x.detach().float()
        raw = torch.einsum("bc,bchw->bhw", grads_a.float().mean(dim=(2, 3)), acts.detach().float())
        if self.with_cam:
            guided = guided * postprocess(raw, tuple(x.shape[-2:]))[:, None]
        maps = normalise_maps(guided.abs().amax(dim=1))
        return CamResult(maps, classes, scores.detach(), layer, raw, {"gradients": guided})


@register_explainer("guided-gradcam", paper="Selvaraju et al. 2017, Guided Grad-CAM")
class GuidedGradCam(GuidedBackprop):
    """Guided Grad-CAM: guided backpropagation times the (upsampled, normalised) Grad-CAM map, per pixel."""

    with_cam = True
