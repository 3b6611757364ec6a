"""The evaluation summary's accuracy is the exact share of correct predictions (targets compare with ``>=``)."""

from __future__ import annotations

import torch

from convlens.train.evaluate import summarise
from convlens.train.metrics import LossFn


def test_accuracy_is_exact_at_a_target_boundary():
    labels = torch.arange(10_000) % 10
    predicted = labels.clone()
    predicted[:80] = (predicted[:80] + 1) % 10  # 9,920 of 10,000 right: 99.2 %, which float32 makes 0.99199998
    logits = torch.nn.functional.one_hot(predicted, 10).float() * 5
    metrics = summarise(logits, labels, LossFn("categorical"), [str(k) for k in range(10)])
    assert metrics["accuracy"] == 0.992 and metrics["accuracy"] >= 0.992
    assert metrics["count"] == 10_000 and sum(map(sum, metrics["confusion_matrix"])) == 10_000
