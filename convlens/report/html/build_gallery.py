"""The images of a run report: misclassified images per confusion cell, the top losses, their Grad-CAMs.

Images are chosen first (every cell's images, largest loss first, within a size budget; the largest losses),
then every Grad-CAM overlay they need is asked for in ONE call of the ``overlays`` callable, so the caller can
batch them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from convlens.report.html import images
from convlens.report.html._files import display_name, number
from convlens.report.html.build_eval import LoadedSplit
from convlens.report.html.views import CellImage, ConfusionCell, Picture, TopLoss, split_key

CELL_SIDE = 160
TOP_LOSS_SIDE = 224


class OverlayRequest(NamedTuple):
    """One Grad-CAM overlay the report needs: the photo on disk and the class index to explain."""

    path: str
    class_index: int


OverlayFn = Callable[[list[OverlayRequest]], Mapping[OverlayRequest, "np.ndarray | None"]]


def cell_records(splits: list[LoadedSplit]) -> dict[tuple[str, int, int], list[dict[str, Any]]]:
    """The misclassified records of every off-diagonal cell, largest loss first."""
    cells: dict[tuple[str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for split in splits:
        for r in split.records or []:
            if int(r["label"]) != int(r["pred"]):
                cells[(split.name, int(r["label"]), int(r["pred"]))].append(r)
    for rows in cells.values():
        rows.sort(key=lambda r: -(number(r.get("loss")) or 0.0))
    return dict(cells)


def share_budget(counts: list[int], per_cell: int, total: int) -> list[int]:
    """How many images each cell shows: at most ``per_cell``, ``total`` over all cells, spread evenly.

    Water-filling: the largest level ``k`` with ``sum(min(k, count)) <= total``; what is left goes one by one
    to the fullest cells. With more cells than ``total``, the fullest cells get one image each.
    """
    level = 0
    while level < per_cell and sum(min(level + 1, c) for c in counts) <= total:
        level += 1
    shown = [min(level, c) for c in counts]
    spare = total - sum(shown)
    for k in sorted(range(len(counts)), key=lambda k: -counts[k]):
        if spare <= 0:
            break
        if shown[k] < min(per_cell, counts[k]):
            shown[k] += 1
            spare -= 1
    return shown


def top_loss_records(split: LoadedSplit, k: int) -> list[dict[str, Any]]:
    """The ``k`` records with the largest loss (right or wrong), largest first."""
    rows = [r for r in split.records or [] if number(r.get("loss")) is not None]
    return sorted(rows, key=lambda r: -float(r["loss"]))[:k]


class PictureMaker:
    """Photos read once per path; overlays looked up in the answer of the single ``overlays`` call."""

    def __init__(self, answers: Mapping[OverlayRequest, Any], classes: list[str], cmap: str):
        self.answers, self.classes, self.cmap = answers, classes, cmap
        self._photos: dict[tuple[str, int], Picture | None] = {}

    def photo(self, path: str, name: str, side: int) -> Picture | None:
        if (path, side) not in self._photos:
            self._photos[(path, side)] = images.picture(
                path if Path(path).is_file() else None, f"photo {name}", max_side=side
            )
        return self._photos[(path, side)]

    def overlay(self, path: str, cls: int, name: str, side: int) -> Picture | None:
        array = self.answers.get(OverlayRequest(path, cls))
        if array is None:
            return None
        label = self.classes[cls] if 0 <= cls < len(self.classes) else str(cls)
        return images.picture(
            np.asarray(array), f"Grad-CAM ({self.cmap}) of {name} for class {label}", max_side=side
        )


def attach_images(
    splits: list[LoadedSplit],
    overlays: OverlayFn | None,
    options: ImageOptions,
    notes: list[str],
) -> None:
    """Choose the images every confusion cell and the top losses show, get their overlays, embed them."""
    cells = cell_records(splits)
    keys = sorted(cells, key=lambda k: (split_key(k[0]), k[1], k[2]))
    shown = share_budget([len(cells[k]) for k in keys], options.per_cell, options.max_cell_images)
    picks = {k: cells[k][:n] for k, n in zip(keys, shown)}
    top_split = _top_loss_split(splits, options.top_losses_split)
    top = top_loss_records(top_split, options.top_losses) if top_split else []
    answers = _ask_overlays(overlays, _requests(picks, top), notes)
    by_name = {s.name: s for s in splits}
    makers = {s.name: PictureMaker(answers, s.classes, options.cmap) for s in splits}
    for (split_name, i, j), rows in picks.items():
        every = cells[(split_name, i, j)]
        root = by_name[split_name].evaluation.data or options.root  # evaluate --data may name another folder
        images_shown = [_cell_image(r, makers[split_name], root) for r in rows]
        more = [display_name(r["path"], root) for r in every[len(rows) : options.per_cell]]
        by_name[split_name].evaluation.cells[(i, j)] = ConfusionCell(i, j, len(every), images_shown, more)
    if top_split is not None:
        maker = makers[top_split.name]
        root = top_split.evaluation.data or options.root
        top_split.evaluation.top_losses = [_top_loss(r, top_split.classes, maker, root) for r in top]


@dataclass
class ImageOptions:
    """How many images the report embeds, and how overlays are labelled."""

    top_losses: int = 16
    per_cell: int = 12
    max_cell_images: int = 120
    top_losses_split: str | None = None
    cmap: str = "jet"
    root: str | None = None


def _top_loss_split(splits: list[LoadedSplit], wanted: str | None) -> LoadedSplit | None:
    with_records = [s for s in splits if s.records]
    for name in (wanted, "test"):
        found = next((s for s in with_records if s.name == name), None)
        if found:
            return found
    return with_records[-1] if with_records else None


def _requests(picks: Mapping[Any, list[dict[str, Any]]], top: list[dict[str, Any]]) -> list[OverlayRequest]:
    """Every (photo, class) overlay the page shows, once each, in page order; photos not on disk are left out."""
    wanted: dict[OverlayRequest, None] = {}
    for rows in picks.values():
        for r in rows:
            wanted[OverlayRequest(r["path"], int(r["pred"]))] = None
            wanted[OverlayRequest(r["path"], int(r["label"]))] = None
    for r in top:
        wanted[OverlayRequest(r["path"], int(r["pred"]))] = None
    on_disk = {path: Path(path).is_file() for path, _ in wanted}
    return [request for request in wanted if on_disk[request.path]]


def _ask_overlays(
    overlays: OverlayFn | None, requests: list[OverlayRequest], notes: list[str]
) -> Mapping[OverlayRequest, Any]:
    if overlays is None or not requests:
        return {}
    from convlens.errors import ConvlensError

    try:
        return overlays(requests) or {}
    except (ConvlensError, OSError, RuntimeError) as error:
        notes.append(f"Grad-CAM overlays could not be made ({error}); the photos are shown without them.")
        return {}


def _cell_image(r: dict[str, Any], maker: PictureMaker, root: str | None) -> CellImage:
    name = display_name(r["path"], root)
    return CellImage(
        name=name,
        photo=maker.photo(r["path"], name, CELL_SIDE),
        overlay_pred=maker.overlay(r["path"], int(r["pred"]), name, CELL_SIDE),
        overlay_true=maker.overlay(r["path"], int(r["label"]), name, CELL_SIDE),
        prob_pred=number(r.get("prob_pred")),
        loss=number(r.get("loss")),
    )


def _top_loss(r: dict[str, Any], classes: list[str], maker: PictureMaker, root: str | None) -> TopLoss:
    name = display_name(r["path"], root)
    label, pred = int(r["label"]), int(r["pred"])
    return TopLoss(
        name=name,
        true=classes[label] if label < len(classes) else str(label),
        pred=classes[pred] if pred < len(classes) else str(pred),
        prob_pred=number(r.get("prob_pred")) or 0.0,
        loss=number(r.get("loss")) or 0.0,
        photo=maker.photo(r["path"], name, TOP_LOSS_SIDE),
        overlay=maker.overlay(r["path"], pred, name, TOP_LOSS_SIDE),
    )
