"""The numbers of a run report's evaluation: ``metrics_<split>.json`` (+ ``predictions_<split>.json``) -> views.

Numbers come from the metrics file or, without it, from the predictions. Every file is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convlens.report.html._files import integer, number, read_json, split_files
from convlens.report.html.views import ClassScores, SplitEvaluation, split_key


@dataclass
class LoadedSplit:
    """One evaluated split as read from disk."""

    name: str
    metrics: dict[str, Any]
    records: list[dict[str, Any]] | None
    classes: list[str]
    evaluation: SplitEvaluation = field(init=False)


def load_splits(run_dir: Path, classes: list[str], notes: list[str]) -> list[LoadedSplit]:
    """Every evaluated split of the run: ``metrics_<split>.json`` (or ``metrics.json``) and its predictions."""
    metrics_files = split_files(run_dir, "metrics")
    prediction_files = split_files(run_dir, "predictions")
    by_split: dict[str, dict[str, Any]] = {s: read_json(p, notes) or {} for s, p in metrics_files.items()}
    latest = read_json(run_dir / "metrics.json", notes)
    if latest and str(latest.get("split", "test")) not in by_split:
        by_split[str(latest.get("split", "test"))] = latest
    for split in prediction_files:
        by_split.setdefault(split, {})
    loaded = []
    for split in sorted(by_split, key=split_key):
        predictions = read_json(prediction_files[split], notes) if split in prediction_files else None
        records = _records(predictions, split, notes)
        names = (
            _strings(by_split[split].get("classes"))
            or _strings((predictions or {}).get("classes"))
            or classes
        )
        loaded.append(LoadedSplit(split, by_split[split], records, names))
        loaded[-1].evaluation = evaluation_numbers(loaded[-1])
    return loaded


def _records(predictions: dict[str, Any] | None, split: str, notes: list[str]) -> list[dict[str, Any]] | None:
    if predictions is None:
        notes.append(f"predictions_{split}.json is missing: the {split} confusion cells list no images.")
        return None
    rows = predictions.get("records")
    if not isinstance(rows, list):
        notes.append(f"predictions_{split}.json has no records list; its images are left out.")
        return None
    good = [
        # built-in data sets (MNIST) have no files: such a record counts, but shows no image
        r if isinstance(r.get("path"), str) else {**r, "path": f"image #{k}"}
        for k, r in enumerate(rows)
        if isinstance(r, dict) and integer(r.get("label")) is not None and integer(r.get("pred")) is not None
    ]
    if len(good) < len(rows):
        notes.append(
            f"predictions_{split}.json: {len(rows) - len(good)} record(s) without label/pred skipped."
        )
    return good


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def evaluation_numbers(split: LoadedSplit) -> SplitEvaluation:
    """Accuracy, loss, per-class scores and the matrix of one split (no images yet)."""
    m = split.metrics
    matrix = m.get("confusion_matrix")
    if not _is_matrix(matrix) and split.records is not None:
        matrix = _matrix_from(split.records, len(split.classes))
    matrix = matrix if _is_matrix(matrix) else []
    correct = sum(row[i] for i, row in enumerate(matrix))
    total = sum(map(sum, matrix))
    accuracy = number(m.get("accuracy"))
    return SplitEvaluation(
        split=split.name,
        classes=split.classes,
        accuracy=accuracy if accuracy is not None else (correct / total if total else None),
        loss=number(m.get("loss")),
        count=integer(m.get("count")) or (total or None),
        data=str(m.get("data") or ""),
        tta="" if m.get("tta") in (None, "none") else str(m.get("tta")),
        per_class=_per_class(m.get("per_class"), split.classes),
        matrix=matrix,
        has_predictions=split.records is not None,
    )


def _is_matrix(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(row, list) and len(row) == len(value) and all(isinstance(c, int) for c in row)
        for row in value
    )


def _matrix_from(records: list[dict[str, Any]], n: int) -> list[list[int]]:
    n = max([n] + [max(int(r["label"]), int(r["pred"])) + 1 for r in records])
    matrix = [[0] * n for _ in range(n)]
    for r in records:
        matrix[int(r["label"])][int(r["pred"])] += 1
    return matrix


def _per_class(value: Any, classes: list[str]) -> list[ClassScores]:
    if not isinstance(value, dict):
        return []
    order = [c for c in classes if c in value] + [c for c in value if c not in classes]
    rows = []
    for name in order:
        s = value[name] if isinstance(value[name], dict) else {}
        rows.append(
            ClassScores(
                str(name),
                number(s.get("precision")) or 0.0,
                number(s.get("recall")) or 0.0,
                number(s.get("f1")) or 0.0,
                integer(s.get("support")) or 0,
            )
        )
    return rows
