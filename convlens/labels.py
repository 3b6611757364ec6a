"""The label-mode rules, in one place: what a single-logit binary head means, and everything that follows.

Two classes train a *binary* model: one logit ``z``, the log-odds of class 1 (sigmoid), labels 0/1. More
classes train a *categorical* model: one logit per class (softmax). From logits of either kind this module
gives probabilities, predicted classes and the score to explain for a class (``+z`` for class 1, ``-z`` for
class 0, the class logit otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convlens.errors import ConfigError

if TYPE_CHECKING:
    import torch

BINARY = "binary"
CATEGORICAL = "categorical"
LABEL_MODES = (BINARY, CATEGORICAL)


def label_mode_for(classes: Sequence[str], label_mode: str | None = None) -> str:
    """``binary`` for two classes, else ``categorical``, unless ``label_mode`` says otherwise."""
    if label_mode is None:
        return BINARY if len(classes) == 2 else CATEGORICAL
    if label_mode not in LABEL_MODES:
        raise ConfigError(f"label mode must be 'binary' or 'categorical', not {label_mode!r}")
    if label_mode == BINARY and len(classes) != 2:
        raise ConfigError(
            f"label mode 'binary' needs exactly 2 classes; found {len(classes)}: {list(classes)}"
        )
    return label_mode


def loss_kind(choice: str, label_mode: str) -> str:
    """``--loss auto`` follows the data's label mode; ``binary``/``categorical`` are taken as given."""
    return label_mode if choice == "auto" else choice


def num_outputs(kind: str, num_classes: int) -> int:
    """Logits the classifier needs: 1 for a binary model, else one per class."""
    return 1 if kind == BINARY else num_classes


def num_classes_of(outputs: int) -> int:
    """Classes a head with ``outputs`` logits tells apart (a single logit is two classes)."""
    return 2 if outputs == 1 else outputs


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Class probabilities ``(N, C)``; a single logit becomes ``[1 - p, p]``."""
    import torch

    logits = logits.float()
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p, p], dim=1)
    return torch.softmax(logits, dim=1)


def logits_of(probs: torch.Tensor, outputs: int) -> torch.Tensor:
    """Logits whose :func:`probabilities` are ``probs`` ``(N, C)``: the log-odds of class 1 as ``(N, 1)`` for a
    single-logit head (``outputs == 1``), else the log-probabilities (softmax gives them back)."""
    import torch

    if outputs == 1:
        return torch.logit(probs[:, 1:2], eps=1e-7)
    return probs.clamp_min(torch.finfo(probs.dtype).tiny).log()


def predicted_classes(logits: torch.Tensor) -> torch.Tensor:
    """Arg-max class; for a single logit, class 1 when the logit is positive."""
    import torch

    if logits.shape[1] == 1:
        return (logits[:, 0] > 0).to(torch.int64)
    return logits.argmax(dim=1)


def class_scores(logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """The score to explain per sample: the class logit.

    A single-logit binary model has one logit ``z`` = log-odds of class 1, so class 1 is explained by ``+z``
    and class 0 by ``-z`` (its own log-odds). Using ``z`` for both, as peers do, shows the evidence *for*
    class 1 when class 0 was asked for.
    """
    if logits.shape[1] == 1:
        sign = classes.to(logits.dtype) * 2 - 1
        return logits[:, 0] * sign
    return logits.gather(1, classes[:, None])[:, 0]


def class_probability(logits: torch.Tensor, cls: int) -> torch.Tensor:
    """Probability of class ``cls`` per sample (sigmoid of ``+-z`` for a single logit)."""
    import torch

    if logits.shape[1] == 1:
        return torch.sigmoid(logits[:, 0].float() * (1 if cls == 1 else -1))
    return torch.softmax(logits.float(), dim=1)[:, cls]


def class_names(classes: Sequence[str] | None, outputs: int) -> list[str]:
    """Names for a head's classes: the given ones, else ``class_0`` ... (two for a single logit)."""
    if classes:
        return list(classes)
    return [f"class_{i}" for i in range(num_classes_of(outputs))]
