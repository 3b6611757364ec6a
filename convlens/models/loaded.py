"""``LoadedModel``: a model ready to use, with its preprocessing, class names and label mode."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from convlens import labels


@dataclass
class LoadedModel:
    """A model in eval mode and what using it needs.

    Attributes:
        model: the network (returns logits).
        cfg: its ``pretrained_cfg`` (input size, mean/std, interpolation, crop).
        classes: a name per class (ImageNet labels for ImageNet heads), or ``None`` when unknown.
        wnids: ImageNet WordNet ids for an ImageNet head, else ``None``.
        source: the model name or the run folder it came from.
        config: the run's ``config.json`` when it came from a run.
        lock: held while one request uses the model (hooks and explainers are per-model state), so a server
            can share one loaded model between threads.
    """

    model: nn.Module
    cfg: dict[str, Any]
    classes: list[str] | None = None
    wnids: list[str] | None = None
    source: str = ""
    config: dict[str, Any] | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def device(self) -> torch.device:
        param = next(self.model.parameters(), None)
        return param.device if param is not None else torch.device("cpu")

    @property
    def channels(self) -> int:
        return int(self.cfg.get("input_size", (3,))[0])

    @property
    def outputs(self) -> int:
        """Logits of the head (1 for a single-logit binary model)."""
        return int(self.cfg.get("num_classes") or len(self.classes or []) or 1)

    @property
    def label_mode(self) -> str:
        return labels.BINARY if self.outputs == 1 else labels.CATEGORICAL

    def class_names(self) -> list[str]:
        """A name for every class index (``class_0`` ... when the model carries none)."""
        return labels.class_names(self.classes, self.outputs)

    def class_index(self, value: str | int | None) -> int | None:
        """``--class`` as an index or a name (a label, or a WordNet id for ImageNet heads)."""
        from convlens.errors import ExplainError

        if value is None or value == "":
            return None
        text = str(value).strip()
        names = self.class_names()
        if text.lstrip("-").isdigit():
            index = int(text)
        elif text in names:
            index = names.index(text)
        elif self.wnids and text in self.wnids:
            index = self.wnids.index(text)
        else:
            close = [n for n in names if text.lower() in n.lower()][:5]
            hint = f" (did you mean {', '.join(close)}?)" if close else f"; e.g. {', '.join(names[:8])}"
            raise ExplainError(
                f"unknown class {text!r}: give an index 0..{len(names) - 1} or a class name{hint}"
            )
        if not 0 <= index < len(names):
            raise ExplainError(
                f"class index {index} is out of range: the model has classes 0..{len(names) - 1}"
            )
        return index
