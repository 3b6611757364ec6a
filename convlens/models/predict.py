"""Top-k predictions for image files, batched, with Keras-style ``(wnid, label, probability)`` decoding."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens import _reporting
from convlens.data.images import BadImage, SkippedFile
from convlens.labels import probabilities
from convlens.models.fast import autocast, bf16_pays, for_inference
from convlens.models.imagenet import decode_predictions
from convlens.models.preprocess import read_image, resize_crop, to_tensor
from convlens.models.views import check_views, view_logits


def predict_files(
    model: nn.Module,
    paths: Sequence[str | Path],
    topk: int = 3,
    classes: list[str] | None = None,
    batch_size: int = 16,
    progress: bool = True,
    fast: bool = False,
    cfg: dict[str, Any] | None = None,
    tta: str = "none",
) -> tuple[list[dict[str, Any]], list[SkippedFile]]:
    """Predict each image on the model's device; preprocessing follows ``model.pretrained_cfg``.

    Args:
        model: a convlens model.
        paths: image files; unusable ones (truncated, not images, bombs) are skipped and returned.
        topk: classes reported per image.
        classes: class names of a non-ImageNet head (``wnid`` and ``label`` are then the class name).
        batch_size: images per forward pass.
        progress: show a progress bar.
        fast: batch norm folded, channels-last memory and, where the hardware multiplies bf16 natively, bf16
            autocast (about 5x faster on CPUs with AMX/AVX-512; probabilities differ from fp32 in the second or
            third digit). Elsewhere fp32, with a warning.
        cfg: the preprocessing (default ``model.pretrained_cfg``).
        tta: test-time views whose probabilities are averaged (:data:`convlens.models.views.VIEWS`): ``none``,
            or ``flip`` for each photo and its mirror image.

    Returns:
        ``([{"image": path, "top": [{"wnid", "label", "prob"}, ...]}, ...] in input order, skipped files)``.
    """
    check_views(tta)
    cfg = cfg if cfg is not None else model.pretrained_cfg
    device = next(model.parameters()).device
    bf16 = fast and bf16_pays(device)
    if fast and not bf16:
        _reporting.warn(f"--fast: {device.type} has no native bf16, so bf16 would be slower; running fp32")
    model = for_inference(model) if fast else model.eval()
    batches = [list(paths[i : i + batch_size]) for i in range(0, len(paths), batch_size)]
    results: list[dict[str, Any]] = []
    skipped: list[SkippedFile] = []
    for batch in _reporting.track(batches, "predicting", enabled=progress):
        images, kept = _read(batch, cfg, skipped)
        if not kept:
            continue
        x = to_tensor(images, cfg).to(device, non_blocking=True)
        with torch.inference_mode(), autocast(device.type, enabled=bf16):
            logits = view_logits(model, x.contiguous(memory_format=torch.channels_last) if fast else x, tta)
            probs = probabilities(logits)
        k = min(topk, probs.shape[1])
        for path, top in zip(kept, decode_predictions(probs, top=k, classes=classes)):
            results.append(
                {"image": str(path), "top": [{"wnid": w, "label": lab, "prob": p} for w, lab, p in top]}
            )
    return results, skipped


def _read(batch: list, cfg: dict[str, Any], skipped: list[SkippedFile]) -> tuple[list[torch.Tensor], list]:
    images, kept = [], []
    channels = int(cfg["input_size"][0])
    for path in batch:
        try:
            images.append(resize_crop(read_image(path, channels), cfg))
        except BadImage as exc:
            skipped.append(SkippedFile(str(path), exc.reason))
            continue
        kept.append(path)
    return images, kept
