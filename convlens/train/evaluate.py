"""``convlens evaluate RUN``: accuracy, loss, per-class precision/recall/F1, confusion matrix, top losses."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from convlens._console import track
from convlens._io import write_json_atomic
from convlens.errors import DataError
from convlens.train import _build
from convlens.train._device import resolve_precision
from convlens.train._models import load_run
from convlens.train.config import TrainConfig
from convlens.train.metrics import LossFn

log = logging.getLogger(__name__)

GALLERY_SIZE = 16


@torch.no_grad()
def predict(model: nn.Module, loader: Any, progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and labels of every batch (eval mode, fp32 for exact metrics)."""
    model.eval()
    logits, labels = [], []
    for x, y in track(loader, "evaluating", enabled=progress):
        logits.append(model(x).float())
        labels.append(y)
    return torch.cat(logits), torch.cat(labels)


def per_class_scores(matrix: np.ndarray, classes: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per class from a confusion matrix (rows = true)."""
    scores = {}
    for i, name in enumerate(classes):
        tp = float(matrix[i, i])
        predicted, actual = float(matrix[:, i].sum()), float(matrix[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[name] = {"precision": precision, "recall": recall, "f1": f1, "support": int(actual)}
    return scores


def evaluate_run(
    run_dir: str | Path, split: str = "test", data: str | None = None, progress: bool = True
) -> dict[str, Any]:
    """Evaluate the run's last model on ``split`` and write ``metrics.json``, the confusion matrix and top losses.

    Args:
        run_dir: a folder written by ``convlens train``.
        split: ``train``, ``validation`` or ``test``.
        data: another data spec with the same classes (default: the run's own data).
        progress: draw a progress bar.

    Returns:
        The metrics written to ``RUN/metrics.json``.
    """
    run_dir = Path(run_dir)
    model, saved = load_run(run_dir)
    options = {**saved["train"], "resume": False, "overwrite": False, "progress": progress}
    config = TrainConfig.from_dict({**options, "data": data or options["data"]})
    splits = _build.load_data(config)
    dataset = dict(splits.items()).get(split)
    if dataset is None:
        raise DataError(
            f"{config.data} has no {split} split; choose one of {[n for n, _ in splits.items()]} with --split"
        )
    if list(dataset.classes) != list(saved["classes"]):
        raise DataError(
            f"{config.data} has classes {dataset.classes}; the run was trained on {saved['classes']}"
        )
    precision = resolve_precision("fp32", torch.device("cpu"))
    loader = _build.make_loader(config, dataset, False, _build.normalisation(model), precision)
    logits, labels = predict(model, loader, progress)
    metrics = summarise(logits, labels, LossFn(saved["label_mode"]), list(saved["classes"]))
    metrics.update(split=split, data=config.data, run=str(run_dir))
    metrics["confusion_matrix_png"], metrics["top_losses_png"] = write_figures(
        run_dir, split, dataset, logits, labels, metrics, saved
    )
    write_json_atomic(run_dir / "metrics.json", metrics)
    return metrics


def summarise(
    logits: torch.Tensor, labels: torch.Tensor, loss_fn: LossFn, classes: list[str]
) -> dict[str, Any]:
    """Accuracy, mean loss, the confusion matrix and per-class scores."""
    from convlens.report import confusion_matrix

    predicted = loss_fn.predict(logits)
    matrix = confusion_matrix(labels.numpy(), predicted.numpy(), len(classes))
    return {
        "accuracy": float((predicted == labels).float().mean()),
        "loss": float(loss_fn(logits, labels)),
        "count": len(labels),
        "classes": classes,
        "per_class": per_class_scores(matrix, classes),
        "confusion_matrix": matrix.tolist(),
    }


def write_figures(
    run_dir: Path,
    split: str,
    dataset: Any,
    logits: torch.Tensor,
    labels: torch.Tensor,
    metrics: dict[str, Any],
    saved: dict[str, Any],
) -> tuple[str, str]:
    """The confusion-matrix PNG and the gallery of the most confidently wrong images."""
    from convlens.report import plot_confusion, plot_gallery, top_losses

    loss_fn, classes = LossFn(saved["label_mode"]), list(saved["classes"])
    cm_path = plot_confusion(
        np.array(metrics["confusion_matrix"]), classes, run_dir / f"confusion_{split}.png"
    )
    losses = loss_fn(logits, labels, reduction="none").numpy()
    predicted, probs = loss_fn.predict(logits), loss_fn.probabilities(logits)
    picks = top_losses(losses, GALLERY_SIZE, wrong=(predicted != labels).numpy())
    captions = [
        f"{classes[labels[i]]} -> {classes[predicted[i]]} ({float(probs[i, predicted[i]]):.2f}, loss {losses[i]:.2f})"
        for i in picks
    ]
    gallery = plot_gallery(
        [np.asarray(dataset.images[i]) for i in picks], captions, run_dir / f"top_losses_{split}.png"
    )
    return cm_path.name, gallery.name
