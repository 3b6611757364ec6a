"""A Keras-like ``model.summary()``: layer name, type, output shape, parameters, and the totals."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from rich.table import Table
from torch import nn


@dataclass
class Summary:
    """Rows ``(name, type, output shape, parameters)`` and the totals of a model at one input size."""

    rows: list[tuple[str, str, tuple[int, ...], int]] = field(default_factory=list)
    total: int = 0
    trainable: int = 0

    @property
    def non_trainable(self) -> int:
        return self.total - self.trainable


def _keras_shape(t: torch.Tensor) -> tuple[int, ...]:
    """Channels-last shape without the batch axis, as Keras prints it."""
    dims = tuple(t.shape[1:])
    return (*dims[1:], dims[0]) if len(dims) == 3 else dims


def summarize(model: nn.Module, input_size: tuple[int, int, int] | None = None) -> Summary:
    """Run one zero image through ``model`` and record each named layer's output.

    Args:
        model: a convlens model (uses ``layer_names()``; every sub-module otherwise).
        input_size: ``(C, H, W)``; default ``model.pretrained_cfg["input_size"]``.
    """
    size = tuple(input_size or model.pretrained_cfg["input_size"])
    names = model.layer_names() if hasattr(model, "layer_names") else [n for n, _ in model.named_children()]
    modules = dict(model.named_modules())
    outputs: dict[str, torch.Tensor] = {}
    hooks = [
        modules[n].register_forward_hook(lambda _m, _i, out, n=n: outputs.setdefault(n, out)) for n in names
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            features = model.forward_features(torch.zeros(1, *size))
            model.forward_head(features)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    summary = Summary()
    for name in names:
        if name in outputs and isinstance(outputs[name], torch.Tensor):
            params = sum(p.numel() for p in modules[name].parameters())
            summary.rows.append((name, type(modules[name]).__name__, _keras_shape(outputs[name]), params))
            if getattr(model, "summary_flatten", None) and outputs[name] is features:
                summary.rows.append(("flatten", "Flatten", (features.numel(),), 0))
    summary.total = sum(p.numel() for p in model.parameters())
    summary.trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return summary


def render(summary: Summary, title: str = "") -> Table:
    """A rich table like Keras' ``model.summary()``."""
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("Layer", "left"),
        ("Type", "left"),
        ("Output Shape", "left"),
        ("Param #", "right"),
    ):
        table.add_column(column, justify=justify)
    for name, kind, shape, params in summary.rows:
        table.add_row(name, kind, str((None, *shape)), f"{params:,}")
    table.caption = (
        f"Total params: {summary.total:,}\nTrainable params: {summary.trainable:,}\n"
        f"Non-trainable params: {summary.non_trainable:,}"
    )
    table.caption_justify = "left"
    return table
