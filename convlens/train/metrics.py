"""Losses chosen from the label mode, predictions, and an epoch meter that sums over DDP ranks."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from convlens import labels
from convlens.labels import loss_kind, num_outputs  # noqa: F401  (re-exported)
from convlens.train import distributed as dist_utils


class LossFn:
    """Binary cross-entropy on one logit, or categorical cross-entropy on ``C`` logits.

    Args:
        kind: ``binary`` (one sigmoid logit, labels 0/1) or ``categorical`` (softmax over classes).
        label_smoothing: ``ε``; targets become ``y (1 − ε) + ε / K`` for ``K`` classes (``K`` = 2 for a binary
            logit), as Keras' ``label_smoothing`` and ``F.cross_entropy(label_smoothing=ε)``.
    """

    def __init__(self, kind: str, label_smoothing: float = 0.0) -> None:
        if kind not in labels.LABEL_MODES:
            raise ValueError(f"loss kind {kind!r}")
        self.kind = kind
        self.label_smoothing = label_smoothing

    def __call__(self, logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        eps = self.label_smoothing
        if self.kind == "binary":
            soft = target.float() * (1 - eps) + eps / 2
            return F.binary_cross_entropy_with_logits(logits.reshape(-1), soft, reduction=reduction)
        return F.cross_entropy(logits, target, reduction=reduction, label_smoothing=eps)

    def unsmoothed(self) -> LossFn:
        """The same loss against the true labels (what validation and evaluation report)."""
        return self if not self.label_smoothing else LossFn(self.kind)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """Predicted class indices."""
        return labels.predicted_classes(logits.reshape(len(logits), -1))

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(N, C)`` (two columns for a binary model)."""
        return labels.probabilities(logits.reshape(len(logits), -1))


class EpochMeter:
    """Sums loss and correct predictions over an epoch; the result is averaged over every rank's samples."""

    def __init__(self, device: torch.device) -> None:
        self.totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, count

    def update(self, loss: torch.Tensor, logits: torch.Tensor, target: torch.Tensor, loss_fn: LossFn) -> None:
        """Add one batch (``loss`` is the batch mean)."""
        n = target.shape[0]
        correct = (loss_fn.predict(logits) == target).sum()
        self.totals += torch.stack([loss.detach().double() * n, correct.double(), torch.tensor(float(n))]).to(
            self.totals.device
        )

    def result(self) -> dict[str, float]:
        """``{"loss": mean, "acc": fraction}`` over all ranks."""
        totals = dist_utils.all_reduce_sum(self.totals.clone())
        loss_sum, correct, count = totals.tolist()
        count = max(count, 1.0)
        return {"loss": loss_sum / count, "acc": correct / count}
