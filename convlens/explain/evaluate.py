"""``convlens explain DIR --evaluate``: faithfulness per method and image, a JSON summary and a leaderboard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from convlens._io import write_json_atomic
from convlens._reporting import track
from convlens.data.folders import collect_images
from convlens.explain.metrics import deletion_insertion, drop_and_increase, load_boxes, pointing_hit
from convlens.explain.overlay import save_figure
from convlens.explain.run import ExplainConfig, ImageRecord, explain_images
from convlens.models.loaded import LoadedModel

# Sort key of the leaderboard: higher is better for each.
SCORE = {
    "insertion_auc": 1,
    "deletion_auc": -1,
    "average_drop": -1,
    "increase_in_confidence": 1,
    "pointing_game": 1,
}


def image_metrics(loaded: LoadedModel, record: ImageRecord, boxes: dict[str, list] | None) -> dict[str, Any]:
    """All metrics for one image and method."""
    assert record.heatmap is not None and record.inputs is not None and record.photo_size is not None
    heatmap = torch.from_numpy(record.heatmap)
    deletion, insertion = deletion_insertion(loaded.model, record.inputs, heatmap, record.cls)
    drop, increase = drop_and_increase(loaded.model, record.inputs, heatmap, record.cls)
    row: dict[str, Any] = {
        "image": record.image,
        "method": record.method,
        "class": record.cls,
        "class_name": record.class_name,
        "deletion_auc": deletion,
        "insertion_auc": insertion,
        "average_drop": drop,
        "increase_in_confidence": increase,
    }
    if boxes is not None:
        name = Path(record.image)
        found = boxes.get(name.name, boxes.get(name.stem))
        if found:
            row["pointing_game"] = float(pointing_hit(record.heatmap, record.photo_size, found))
    return row


def leaderboard(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean of each metric per method, best insertion-minus-deletion first."""
    by_method: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_method[row["method"]].append(row)
    board = []
    for method, items in by_method.items():
        entry: dict[str, Any] = {"method": method, "images": len(items)}
        for key in SCORE:
            values = [r[key] for r in items if key in r]
            if values:
                entry[key] = float(np.mean(values))
        board.append(entry)
    return sorted(board, key=lambda e: e["deletion_auc"] - e["insertion_auc"])


def leaderboard_figure(board: list[dict[str, Any]]) -> Figure:
    """One bar group per metric, one bar per method."""
    keys = [k for k in SCORE if all(k in e for e in board)]
    fig = Figure(figsize=(1.8 * len(keys) + 2, 3.6), dpi=100)
    ax = fig.subplots()
    width = 0.8 / max(1, len(board))
    for i, entry in enumerate(board):
        ax.bar(np.arange(len(keys)) + i * width, [entry[k] for k in keys], width, label=entry["method"])
    ax.set_xticks(np.arange(len(keys)) + width * (len(board) - 1) / 2)
    ax.set_xticklabels(
        [f"{k}\n({'higher' if SCORE[k] > 0 else 'lower'} is better)" for k in keys], fontsize=8
    )
    ax.legend(fontsize=8)
    ax.set_title(f"Faithfulness leaderboard ({board[0]['images'] if board else 0} images)")
    fig.tight_layout()
    return fig


def evaluate_explanations(
    loaded: LoadedModel, config: ExplainConfig, boxes_path: Path | None = None, skipped: list | None = None
) -> dict[str, Any]:
    """Explain every image (writing maps as usual) and score each map; writes summary.json and leaderboard.png."""
    boxes = load_boxes(boxes_path) if boxes_path is not None else None
    # one bar over maps and scores together (the scores take most of the time), so explain_images draws none
    records = explain_images(loaded, replace(config, progress=False), keep_maps=True, skipped=skipped)
    total = len(collect_images([config.source])[0]) * len(config.methods)
    scoring = track(records, "explaining + faithfulness", total=total, enabled=config.progress)
    rows = [image_metrics(loaded, record, boxes) for record in scoring]
    board = leaderboard(rows)
    summary = {"leaderboard": board, "images": rows}
    write_json_atomic(config.out / "summary.json", summary)
    if board:
        save_figure(leaderboard_figure(board), config.out / "leaderboard.png")
    return summary
