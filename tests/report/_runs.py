"""Synthetic run folders in the formats `convlens train` / `evaluate` write, over real photos copied to tmp."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from convlens.report.html import OverlayRequest

EVIL_CLASS = "<img src=x onerror=alert(1)>"
# A file name cannot hold "/", so "</script>" makes a folder: the name relative to the data root is the attack.
EVIL_FILE = '"><script>alert(1)</script>.jpg'


def copy_photos(raw: Path, data: Path, ids: range, classes: tuple[str, ...] = ("cat", "dog")) -> list[Path]:
    """``data/test/<class>/<class>.<id>.jpg`` copied from the read-only raw pool."""
    paths = []
    for name in classes:
        folder = data / "test" / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in ids:
            target = folder / f"{name}.{i}.jpg"
            if not target.exists():
                shutil.copyfile(raw / f"{name}.{i}.jpg", target)
            paths.append(target)
    return paths


def book_history(epochs: int, seed: int = 0) -> list[dict[str, float]]:
    """Curves shaped like the book's small convnet: training keeps improving, validation flattens at ~72 %."""
    rng = np.random.default_rng(seed)
    rows = []
    for e in range(1, epochs + 1):
        t = e / max(epochs, 1)
        acc = 0.55 + 0.44 * (1 - math.exp(-3.2 * t))
        val_acc = 0.56 + 0.16 * (1 - math.exp(-7 * t)) + rng.normal(0, 0.012)
        loss = 0.69 * math.exp(-2.9 * t) + 0.02
        val_loss = (
            0.69 - 0.12 * (1 - math.exp(-9 * t)) + 0.25 * max(0.0, t - 0.35) ** 1.6 + rng.normal(0, 0.012)
        )
        rows.append({"epoch": e, "loss": loss, "acc": acc, "val_loss": val_loss, "val_acc": val_acc})
    return rows


def predictions(
    paths: list[Path], classes: list[str], error_rate: float, seed: int = 0
) -> list[dict[str, Any]]:
    """One record per photo; the label is the class folder, a share of them predicted wrong."""
    rng = np.random.default_rng(seed)
    records = []
    for path in paths:
        n = len(classes)
        label = classes.index(path.parent.name) if path.parent.name in classes else int(rng.integers(n))
        wrong = rng.random() < error_rate
        # mistakes go to the next few classes, so some cells are big (as real confusions are)
        pred = (label + 1 + int(rng.integers(0, min(3, n - 1)))) % n if wrong else label
        prob_pred = float(rng.uniform(0.5, 0.999))
        prob_true = prob_pred if pred == label else float((1 - prob_pred) * rng.uniform(0.1, 1))
        records.append(
            {
                "path": str(path),
                "label": label,
                "pred": pred,
                "prob_pred": prob_pred,
                "prob_true": prob_true,
                "loss": -math.log(max(prob_true, 1e-7)),
            }
        )
    return records


def metrics_of(records: list[dict[str, Any]], classes: list[str], split: str, data: Path) -> dict[str, Any]:
    n = len(classes)
    matrix = np.zeros((n, n), dtype=int)
    for r in records:
        matrix[r["label"], r["pred"]] += 1
    per_class = {}
    for i, name in enumerate(classes):
        tp, predicted, actual = matrix[i, i], matrix[:, i].sum(), matrix[i].sum()
        p, r = (tp / predicted if predicted else 0.0), (tp / actual if actual else 0.0)
        per_class[name] = {
            "precision": float(p),
            "recall": float(r),
            "f1": float(2 * p * r / (p + r) if p + r else 0),
            "support": int(actual),
        }
    return {
        "split": split,
        "data": str(data),
        "run": "",
        "accuracy": float(np.trace(matrix) / matrix.sum()),
        "loss": float(np.mean([r["loss"] for r in records])),
        "count": len(records),
        "classes": classes,
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
        "confusion_matrix_png": f"confusion_{split}.png",
        "top_losses_png": f"top_losses_{split}.png",
    }


def config_of(
    data: Path, classes: list[str], counts: dict[str, dict[str, int]], epochs: int, **extra: Any
) -> dict:
    train = {
        "data": str(data),
        "model": "small_convnet",
        "out": "runs/scratch",
        "image_size": 150,
        "batch_size": 20,
        "epochs": epochs,
        "optimizer": "rmsprop",
        "lr": 1e-4,
        "augment": None,
        "dropout": 0.0,
        "seed": 0,
        "precision": "auto",
        "base": None,
        "mode": "scratch",
        "unfreeze_from": None,
    }
    return {
        "model": "small_convnet",
        "num_classes": 1 if len(classes) == 2 else len(classes),
        "input_size": [3, 150, 150],
        "classes": classes,
        "label_mode": "binary" if len(classes) == 2 else "categorical",
        "mode": "scratch",
        "train": train,
        "skipped": [{"path": str(data / "train" / "cat" / "cat.666.jpg"), "reason": "not an image"}],
        "epoch": epochs,
        "metrics": {},
        "environment": {
            "device": "cpu",
            "precision": "bf16",
            "threads": 2,
            "python": "3.11.7",
            "torch": "2.14.1",
            "torchvision": "0.29.1",
            "convlens": "0.1.0",
            "platform": "Linux-x86_64",
        },
        "command": [
            "convlens",
            "train",
            str(data),
            "--model",
            "small_convnet",
            "--epochs",
            str(epochs),
            "--out",
            "runs/scratch",
        ],
        "counts": counts,
        "trainable": {"params": 3453121, "frozen_params": 0, "tensors": 10, "tensors_before": 10},
        "wall_time_s": 1234.5,
        **extra,
    }


def write_run(
    run: Path,
    data: Path,
    paths: list[Path],
    classes: list[str],
    epochs: int = 30,
    error_rate: float = 0.2,
    extras: bool = True,
    **config_extra: Any,
) -> Path:
    """A complete run folder: config, history, metrics + predictions of the test split, extras."""
    run.mkdir(parents=True, exist_ok=True)
    records = predictions(paths, classes, error_rate)
    counts = {"test": {c: sum(1 for r in records if r["label"] == i) for i, c in enumerate(classes)}}
    counts["train"] = {c: 2 * n for c, n in counts["test"].items()}
    counts["validation"] = dict(counts["test"])
    _json(run / "config.json", config_of(data, classes, counts, epochs, **config_extra))
    _json(run / "history.json", book_history(epochs))
    metrics = metrics_of(records, classes, "test", data)
    _json(run / "metrics_test.json", metrics)
    _json(run / "metrics.json", metrics)
    label_mode = "binary" if len(classes) == 2 else "categorical"
    _json(
        run / "predictions_test.json",
        {"split": "test", "classes": classes, "label_mode": label_mode, "records": records},
    )
    if extras:
        write_extras(run, paths[0])
    return run


def write_extras(run: Path, photo: Path) -> None:
    base = np.asarray(Image.open(photo).convert("RGB").resize((150, 150)))
    strip = np.concatenate([np.roll(base, 20 * k, axis=1) for k in range(4)], axis=1)
    Image.fromarray(strip).save(run / "augment_preview.png")
    (run / "activations").mkdir(exist_ok=True)
    for k, name in enumerate(("conv2d_1", "max_pooling2d_1")):
        grey = (np.random.default_rng(k).random((148 * 2, 148 * 8)) * 255).astype(np.uint8)
        Image.fromarray(grey).save(run / "activations" / f"{name}.png")
    (run / "filters").mkdir(exist_ok=True)
    tiles = (np.random.default_rng(3).random((547, 547, 3)) * 255).astype(np.uint8)
    Image.fromarray(tiles).save(run / "filters" / "block1_conv1.png")


def _json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")


def jet(values: np.ndarray) -> np.ndarray:
    """A JET-like colormap (the book's) for values in 0..1, as uint8 RGB; no matplotlib needed."""
    v = np.clip(values, 0, 1)[..., None]
    rgb = np.clip(1.5 - np.abs(4 * v - np.array([3.0, 2.0, 1.0])), 0, 1)
    return (rgb * 255).astype(np.uint8)


def fake_overlays(requests: list[OverlayRequest]) -> dict[OverlayRequest, np.ndarray | None]:
    """A stand-in for batched Grad-CAM: a blob whose place depends on the class, laid over the photo at 0.4."""
    answers: dict[OverlayRequest, np.ndarray | None] = {}
    for request in requests:
        try:
            photo = np.asarray(Image.open(request.path).convert("RGB").resize((150, 150)), dtype=np.float32)
        except OSError:
            answers[request] = None
            continue
        yy, xx = np.mgrid[0:150, 0:150] / 150.0
        cx, cy = (0.3, 0.35) if request.class_index % 2 == 0 else (0.65, 0.6)
        heat = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 0.03)
        answers[request] = (0.6 * photo + 0.4 * jet(heat)).clip(0, 255).astype(np.uint8)
    return answers


METHODS = ("gradcam", "gradcampp", "scorecam")


def write_explain_folder(out: Path, photos: list[Path], summary: bool = True) -> Path:
    """What ``convlens explain --evaluate`` writes: per image and method a map, an overlay and panels."""
    rows = []
    for photo in photos:
        folder = out / photo.stem
        folder.mkdir(parents=True)
        for k, method in enumerate(METHODS):
            overlay = fake_overlays([OverlayRequest(str(photo), k)])[OverlayRequest(str(photo), k)]
            np.save(folder / f"{method}.npy", np.zeros((150, 150), np.float32))
            Image.fromarray(overlay).save(folder / f"{method}_overlay.jpg")
            Image.fromarray(np.concatenate([overlay] * 3, axis=1)).save(folder / f"{method}_panels.png")
            rows.append(
                {
                    "image": str(photo),
                    "method": method,
                    "class": 0,
                    "deletion_auc": 0.2 + 0.1 * k,
                    "insertion_auc": 0.8 - 0.1 * abs(k - 1),
                    "average_drop": 10.0 * k,
                    "increase_in_confidence": 0.5,
                }
            )
    if summary:
        board = [
            {
                "method": m,
                "images": len(photos),
                "deletion_auc": d,
                "insertion_auc": i,
                "average_drop": a,
                "increase_in_confidence": 0.5,
            }
            for m, d, i, a in (
                ("gradcampp", 0.3, 0.8, 10.0),
                ("gradcam", 0.2, 0.7, 0.0),
                ("scorecam", 0.4, 0.7, 20.0),
            )
        ]
        _json(out / "summary.json", {"leaderboard": board, "images": rows})
        Image.fromarray(np.full((300, 600, 3), 230, np.uint8)).save(out / "leaderboard.png")
    return out
