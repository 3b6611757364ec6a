"""``convlens evaluate RUN``: accuracy, loss, per-class precision/recall/F1, confusion matrix, top losses.

Writes ``metrics_<split>.json`` (and ``metrics.json``, the latest), ``predictions_<split>.json`` (one record per
image: the report's confusion-cell galleries read it) and the figures, all through the run's :class:`RunDir`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import torch
from torch import nn

from convlens._reporting import track
from convlens.models.views import check_views, view_logits
from convlens.runs import RunDir, load_run
from convlens.train import _build
from convlens.train._device import resolve_precision
from convlens.train.config import TrainConfig
from convlens.train.eval_data import evaluation_dataset
from convlens.train.metrics import LossFn

log = logging.getLogger(__name__)

GALLERY_SIZE = 16


class Metrics(dict):
    """The metrics of an evaluation (a plain dict) that a notebook renders as a table."""

    def _repr_html_(self) -> str:
        from convlens.report.html.notebook import metrics_html

        return metrics_html(self)


MOST_CONFUSED = 10


@torch.no_grad()
def predict(
    model: nn.Module, loader: Any, progress: bool = True, tta: str = "none"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and labels of every batch (eval mode, fp32 for exact metrics), averaged over the ``tta`` views."""
    model.eval()
    logits, labels = [], []
    for x, y in track(loader, "evaluating", enabled=progress):
        logits.append(view_logits(model, x, tta))
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


def most_confused(matrix: np.ndarray, classes: list[str], top: int = MOST_CONFUSED) -> list[list[Any]]:
    """The largest off-diagonal cells as ``[true, predicted, count]`` (fastai's ``most_confused``)."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:top]
    cells = [np.unravel_index(i, off.shape) for i in order]
    return [[classes[t], classes[p], int(off[t, p])] for t, p in cells if off[t, p] > 0]


def evaluate_run(
    run_dir: str | os.PathLike[str] | RunDir,
    split: str = "test",
    data: str | None = None,
    progress: bool = True,
    class_map: dict[str, str] | None = None,
    tta: str = "none",
) -> Metrics:
    """Evaluate the run's last model on ``split`` and write metrics, predictions and figures into the run.

    Args:
        run_dir: a folder written by ``convlens train``.
        split: ``train``, ``validation`` or ``test``.
        data: other data with the same classes (default: the run's own data): a split folder (its ``split``
            is used), or any folder of class sub-folders; classes are matched by name.
        progress: draw a progress bar.
        class_map: ``{folder name: class name}`` when the folders are named differently (``cats`` -> ``cat``).
        tta: test-time views to average (:data:`convlens.models.views.VIEWS`): ``none``, or ``flip`` for the
            photo and its mirror image. Recorded as ``metrics["tta"]``.

    Returns:
        The metrics written to ``RUN/metrics_<split>.json``.
    """
    check_views(tta)
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    model, saved = load_run(run)
    options = {**saved["train"], "resume": False, "overwrite": False, "progress": progress}
    config = TrainConfig.from_dict({**options, "data": data or options["data"]}, saved=True)
    classes = list(saved["classes"])
    dataset = evaluation_dataset(config, split, classes, data is not None, class_map)
    precision = resolve_precision("fp32", torch.device("cpu"))
    loader = _build.make_loader(config, dataset, False, _build.normalisation(model), precision)
    logits, labels = predict(model, loader, progress, tta)
    loss_fn = LossFn(saved["label_mode"])
    metrics = summarise(logits, labels, loss_fn, classes)
    metrics.update(split=split, data=config.data, run=str(run.path), tta=tta)
    records = prediction_records(dataset, logits, labels, loss_fn)
    metrics["confusion_matrix_png"], metrics["top_losses_png"] = write_figures(
        run, split, dataset, records, metrics
    )
    run.write_json(
        "predictions",
        split,
        {"split": split, "classes": classes, "label_mode": loss_fn.kind, "records": records},
    )
    run.write_json("metrics", split, metrics)
    return Metrics(metrics)


def summarise(
    logits: torch.Tensor, labels: torch.Tensor, loss_fn: LossFn, classes: list[str]
) -> dict[str, Any]:
    """Accuracy, mean loss, the confusion matrix (counts and row-normalised), per-class scores, most confused."""
    from convlens.report import confusion_matrix

    predicted = loss_fn.predict(logits)
    matrix = confusion_matrix(labels.numpy(), predicted.numpy(), len(classes))
    rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
    return {
        "accuracy": int((predicted == labels).sum()) / max(len(labels), 1),  # exact: 9,920 of 10,000 is 0.992
        "loss": float(loss_fn(logits, labels)),
        "count": len(labels),
        "classes": classes,
        "per_class": per_class_scores(matrix, classes),
        "confusion_matrix": matrix.tolist(),
        "confusion_matrix_normalised": np.round(matrix / rows, 4).tolist(),
        "most_confused": most_confused(matrix, classes),
    }


def prediction_records(
    dataset: Any, logits: torch.Tensor, labels: torch.Tensor, loss_fn: LossFn
) -> list[dict]:
    """One record per image: its file, true and predicted class, both probabilities and the loss."""
    losses = loss_fn(logits, labels, reduction="none").numpy()
    predicted, probs = loss_fn.predict(logits).numpy(), loss_fn.probabilities(logits).numpy()
    paths = dataset.paths or [None] * len(labels)
    return [
        {
            "path": paths[i],
            "index": i,
            "label": int(labels[i]),
            "pred": int(predicted[i]),
            "prob_pred": round(float(probs[i, predicted[i]]), 6),
            "prob_true": round(float(probs[i, labels[i]]), 6),
            "loss": round(float(losses[i]), 6),
        }
        for i in range(len(labels))
    ]


def write_figures(
    run: RunDir, split: str, dataset: Any, records: list[dict], metrics: dict
) -> tuple[str, str]:
    """The confusion-matrix PNG (and CSV above 50 classes) and the gallery of the most confidently wrong."""
    from convlens.report import plot_confusion, plot_gallery, top_losses, write_confusion_csv

    classes = list(metrics["classes"])
    matrix = np.array(metrics["confusion_matrix"])
    cm_path = plot_confusion(matrix, classes, run.file(f"confusion_{split}.png"))
    if len(classes) > 50:
        write_confusion_csv(matrix, classes, run.file(f"confusion_{split}.csv"))
    losses = np.array([r["loss"] for r in records])
    wrong = np.array([r["pred"] != r["label"] for r in records])
    picks = top_losses(losses, GALLERY_SIZE, wrong=wrong)
    captions = [
        f"{classes[records[i]['label']]} → {classes[records[i]['pred']]}\n"
        f"p({classes[records[i]['pred']]}) {records[i]['prob_pred']:.2f} · loss {records[i]['loss']:.2f}"
        for i in picks
    ]
    gallery = plot_gallery(
        [np.asarray(dataset.images[i]) for i in picks],
        captions,
        run.file(f"top_losses_{split}.png"),
        title=f"Top losses on {split}: actual → predicted · probability of the prediction · loss",
    )
    return cm_path.name, gallery.name
