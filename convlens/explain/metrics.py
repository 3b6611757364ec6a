"""Faithfulness of explanations: deletion / insertion AUC, average drop, increase in confidence, pointing game.

- Deletion / insertion (Petsiuk et al., RISE, BMVC 2018): pixels are removed from the image (set to the
  mean colour, 0 after normalisation) or inserted into a blurred copy, most salient first, in ``steps``
  equal parts; the AUC of the class probability over the fraction changed (trapezoid). Low deletion and
  high insertion are better.
- Average drop and increase in confidence (Chattopadhay et al., Grad-CAM++, 2018): with Y the class
  probability of the image and O that of the image multiplied by the map, drop = max(0, Y - O) / Y and
  increase = [O > Y]. Lower drop, higher increase are better.
- Pointing game (Zhang et al., 2016): a hit when the map's maximum lies in one of the image's boxes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convlens.errors import DataError
from convlens.labels import class_probability

STEPS = 16


def _probabilities(model: nn.Module, batch: torch.Tensor, cls: int) -> np.ndarray:
    with torch.inference_mode():
        return class_probability(model(batch).float(), cls).numpy()


def _ordered_masks(heatmap: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps + 1, 1, H, W) masks, mask k covering the k/steps most salient pixels."""
    order = torch.argsort(heatmap.flatten(), descending=True)
    ranks = torch.empty_like(order)
    ranks[order] = torch.arange(order.numel())
    cut = torch.linspace(0, order.numel(), steps + 1)[:, None]
    return (ranks[None].float() < cut).float().reshape(steps + 1, 1, *heatmap.shape)


def _auc(curve: np.ndarray) -> float:
    return float(((curve[1:] + curve[:-1]) / 2).mean())


def deletion_insertion(
    model: nn.Module, x: torch.Tensor, heatmap: torch.Tensor, cls: int, steps: int = STEPS
) -> tuple[float, float]:
    """(deletion AUC, insertion AUC) for one (C, H, W) input and its (H, W) map; one batch per curve."""
    masks = _ordered_masks(heatmap, steps)
    blurred = F.avg_pool2d(x[None], 11, stride=1, padding=5, count_include_pad=False)
    deleted = x[None] * (1 - masks)
    inserted = blurred * (1 - masks) + x[None] * masks
    return _auc(_probabilities(model, deleted, cls)), _auc(_probabilities(model, inserted, cls))


def drop_and_increase(
    model: nn.Module, x: torch.Tensor, heatmap: torch.Tensor, cls: int
) -> tuple[float, float]:
    """(average drop, increase in confidence) for one input: the image vs the image times its map."""
    probs = _probabilities(model, torch.stack([x, x * heatmap[None]]), cls)
    full, masked = float(probs[0]), float(probs[1])
    return max(0.0, full - masked) / max(full, 1e-12), float(masked > full)


def load_boxes(path: Path) -> dict[str, list[tuple[float, float, float, float]]]:
    """Boxes per image name (file name or stem), in the photo's pixels (x0, y0, x1, y1).

    JSON: ``{"image.jpg": [[x0, y0, x1, y1], ...]}``; CSV: rows ``image,x0,y0,x1,y1`` (a header allowed).
    """
    if not path.is_file():
        raise DataError(f"boxes file {path} does not exist; give a JSON or CSV file of boxes per image")
    try:
        return _read_boxes(path)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise DataError(
            f'cannot read boxes from {path} ({exc}); expected JSON {{"image.jpg": [[x0, y0, x1, y1], ...]}} '
            f"or CSV rows image,x0,y0,x1,y1"
        ) from None


def _read_boxes(path: Path) -> dict[str, list[tuple[float, float, float, float]]]:
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    if path.suffix.lower() == ".json":
        for name, items in json.loads(path.read_text(encoding="utf-8")).items():
            rows = items if isinstance(items[0], list) else [items]
            boxes[str(name)] = [_box(b) for b in rows]
        return boxes
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if len(row) < 5 or not _is_number(row[1]):
                continue
            boxes.setdefault(row[0].strip(), []).append(_box(row[1:5]))
    return boxes


def _box(values: list) -> tuple[float, float, float, float]:
    if len(values) != 4:
        raise ValueError(f"a box needs 4 numbers, got {values!r}")
    x0, y0, x1, y1 = (float(v) for v in values)
    return (x0, y0, x1, y1)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def pointing_hit(
    heatmap: np.ndarray, photo_size: tuple[int, int], boxes: list[tuple[float, ...]], tolerance: float = 15.0
) -> bool:
    """Whether the map's maximum, in photo pixels, lies within ``tolerance`` of one of the boxes."""
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    y = (row + 0.5) * photo_size[0] / heatmap.shape[0]
    x = (col + 0.5) * photo_size[1] / heatmap.shape[1]
    return any(
        x0 - tolerance <= x <= x1 + tolerance and y0 - tolerance <= y <= y1 + tolerance
        for x0, y0, x1, y1 in boxes
    )
