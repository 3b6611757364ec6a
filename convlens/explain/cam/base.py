"""The CAM template: hooks as resources, forward, backward, ReLU, upsampling, normalisation.

A method supplies :meth:`CamExplainer.channel_weights` (one weight per channel of the target layer's
feature map, 5-15 lines); element-wise methods override :meth:`CamExplainer.weighted_map` instead.
Behaviour switches are class attributes (``needs_gradients = False``).

Speed: gradients nobody needs are never computed. Parameters are frozen while a map is made (their
``requires_grad`` flags are restored afterwards) and the target layer's output is replaced by a leaf
copy during the forward pass, so nothing before the layer records a graph and the backward pass stops
at the layer. No model surgery: a forward hook does it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from convlens._registry import Registry
from convlens.errors import ExplainError
from convlens.explain.cam._layers import auto_layer
from convlens.labels import class_scores, predicted_classes
from convlens.models.layers import get_layer

log = logging.getLogger(__name__)

explainers: Registry[type[CamExplainer]] = Registry("explainer")
TargetSpec = int | Sequence[int] | torch.Tensor | None


def register_explainer(name: str, **meta: Any):
    """Class decorator: register an explainer under ``name`` (the CLI's ``--method`` choices read it)."""

    def decorate(cls: type[CamExplainer]) -> type[CamExplainer]:
        cls.name = name
        return explainers.register(name, **meta)(cls)

    return decorate


@dataclass
class CamResult:
    """Maps for a batch: ``maps`` (B, H, W) in [0, 1] at the input size; ``raw`` before ReLU at layer size."""

    maps: torch.Tensor
    classes: torch.Tensor
    scores: torch.Tensor
    layer: str
    raw: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


def target_classes(logits: torch.Tensor, target: TargetSpec) -> torch.Tensor:
    """Resolve ``target`` (None = predicted, an int for all, or one per sample) to a (B,) tensor."""
    batch = logits.shape[0]
    if target is None:
        return predicted_classes(logits)
    classes = torch.as_tensor(target, dtype=torch.long, device=logits.device).reshape(-1)
    if classes.numel() == 1:
        classes = classes.expand(batch)
    n_classes = max(2, logits.shape[1])
    if classes.numel() != batch or bool((classes < 0).any()) or bool((classes >= n_classes).any()):
        raise ExplainError(
            f"target {target!r} does not fit {batch} samples and {n_classes} classes; "
            f"give one class in 0..{n_classes - 1} or one per sample"
        )
    return classes


def normalise_maps(maps: torch.Tensor) -> torch.Tensor:
    """Min-max scale each map of a (B, H, W) batch to [0, 1]; a constant map becomes all zeros."""
    flat = maps.flatten(1)
    low = flat.min(dim=1).values[:, None, None]
    span = flat.max(dim=1).values[:, None, None] - low
    safe = torch.where(span > 0, span, torch.ones_like(span))
    return torch.where(span > 0, (maps - low) / safe, torch.zeros_like(maps))


def postprocess(raw: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """ReLU, bilinear upsampling to ``size`` (half-pixel centres, as cv2.resize), min-max normalisation."""
    maps = F.relu(raw.float())[:, None]
    if tuple(maps.shape[-2:]) != tuple(size):
        maps = F.interpolate(maps, size=size, mode="bilinear", align_corners=False)
    return normalise_maps(maps[:, 0])


@contextmanager
def eval_frozen(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and frozen parameters for the duration; both restored in ``finally``."""
    was_training = model.training
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.eval()
        for p, _ in flags:
            p.requires_grad_(False)
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)


class LayerTap:
    """Forward hook on the target layer, as a resource: ``with LayerTap(layer, cut=True) as tap``.

    With ``cut`` the layer's output is swapped for a leaf tensor that requires grad, so the graph
    (and every backward pass) starts at the layer; the model sees a clone, as in-place ops after the
    layer (``ReLU(inplace=True)``) may not touch a leaf.
    """

    def __init__(self, layer: nn.Module, cut: bool) -> None:
        self.layer, self.cut = layer, cut
        self.activations: torch.Tensor | None = None
        self._handle: Any = None

    def _hook(self, _module: nn.Module, _inputs: Any, output: Any) -> Any:
        if not isinstance(output, torch.Tensor):
            raise ExplainError("the target layer must return one tensor; choose another layer (--layer)")
        if not self.cut:
            self.activations = output
            return None
        self.activations = output.detach().requires_grad_(True)
        return self.activations.clone()

    def __enter__(self) -> LayerTap:  # noqa: PYI034 - typing.Self needs Python 3.11
        self._handle = self.layer.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.remove()
        self._handle = None


class CamExplainer:
    """Base class of the CAM family (template method). Call ``explainer(x, target)`` -> :class:`CamResult`.

    Args:
        model: a classifier returning logits.
        layer: the layer to explain, by ``named_modules`` name; ``None`` picks the last conv layer with
            a spatial output (see :func:`convlens.explain.cam._layers.auto_layer`).
        precision: ``"fp32"`` (default, exact) or ``"bf16"`` (CPU autocast; faster on AMX CPUs).
    """

    name: ClassVar[str] = ""
    needs_gradients: ClassVar[bool] = True
    cut_at_layer: ClassVar[bool] = True  # start the graph at the layer (off when input gradients are needed)

    def __init__(self, model: nn.Module, layer: str | None = None, precision: str = "fp32") -> None:
        if precision not in ("fp32", "bf16"):
            raise ExplainError(f"precision {precision!r} is not supported; use fp32 or bf16")
        self.model, self.layer_name, self.precision = model, layer, precision
        self.inputs: torch.Tensor | None = None
        self.classes: torch.Tensor | None = None

    # --- the hooks a method supplies -------------------------------------------------------------
    def channel_weights(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        """One weight per channel, (B, C), from activations A (B, C, h, w) and dScore/dA (or None)."""
        raise NotImplementedError

    def weighted_map(self, activations: torch.Tensor, gradients: torch.Tensor | None) -> torch.Tensor:
        """The raw map (B, h, w) before ReLU; by default sum_k w_k A_k. Element-wise methods override it."""
        weights = self.channel_weights(activations, gradients)
        return torch.einsum("bc,bchw->bhw", weights.float(), activations.float())

    # --- the template ------------------------------------------------------------------------------
    def __call__(self, x: torch.Tensor, target: TargetSpec = None) -> CamResult:
        x = self._prepare(x)
        layer = self.resolve_layer(x)
        with self.session(get_layer(self.model, layer)) as tap:
            logits = self.forward(x)
            classes = target_classes(logits, target)
            scores = class_scores(logits.float(), classes)
            acts = tap.activations
            if acts is None:
                raise ExplainError(
                    f"layer {layer!r} did not run in the forward pass; choose another (--layer)"
                )
            grads = self.gradients(scores, acts) if self.needs_gradients else None
            self.inputs, self.classes = x, classes
            try:
                with torch.no_grad():
                    raw = self.weighted_map(acts.detach().float(), grads)
            finally:
                self.inputs = self.classes = None
        return CamResult(postprocess(raw, tuple(x.shape[-2:])), classes, scores.detach(), layer, raw)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x[None]
        param = next(self.model.parameters(), None)
        return x.to(param.device if param is not None else x.device, torch.float32)

    def resolve_layer(self, x: torch.Tensor) -> str:
        """The target layer's name; found once from the first batch when not given."""
        if self.layer_name is None:
            with eval_frozen(self.model):
                self.layer_name = auto_layer(self.model, x)
            log.info("explaining layer %s", self.layer_name)
        return self.layer_name

    @contextmanager
    def session(self, layer: nn.Module) -> Iterator[LayerTap]:
        """Eval mode, frozen parameters and the layer hook; all undone on exit, also on errors."""
        with ExitStack() as stack:
            stack.enter_context(eval_frozen(self.model))
            tap = stack.enter_context(LayerTap(layer, cut=self.needs_gradients and self.cut_at_layer))
            self.extra_hooks(stack)
            yield tap

    def extra_hooks(self, stack: ExitStack) -> None:
        """Register further hooks on ``stack`` (guided backprop's ReLU hooks); none by default."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, K) for ``x``; without a graph when the method needs no gradients."""
        grad = torch.enable_grad() if self.needs_gradients else torch.no_grad()
        with grad, torch.autocast(x.device.type, torch.bfloat16, enabled=self.precision == "bf16"):
            logits = self.model(x)
        if logits.ndim != 2:
            raise ExplainError(
                f"the model returned shape {tuple(logits.shape)}; expected logits (B, classes)"
            )
        return logits

    @staticmethod
    def gradients(scores: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
        """dScore/dA for each sample (samples are independent in eval mode, so one backward suffices)."""
        (grads,) = torch.autograd.grad(scores.sum(), activations)
        return grads.float()
