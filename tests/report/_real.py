"""Real (tiny) runs for the report tests: trained and evaluated by convlens, explained by a hand-written Grad-CAM."""

from __future__ import annotations

import base64
import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ..train.conftest import make_image_folder


@contextmanager
def private_caches(root: Path) -> Iterator[None]:
    """Session fixtures run before the autouse per-test cache fixture: keep their caches in ``root`` too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONVLENS_CACHE", str(root / "convlens-cache"))
        patch.setenv("TORCH_HOME", str(root / "torch-home"))
        yield


def mislabelled_folder(root: Path, per_class: int = 6, size: int = 48) -> Path:
    """Bright dogs, dark cats; one test photo of each class filed under the other, so every model errs."""
    data = make_image_folder(root, per_class=per_class, size=size)
    (data / "test" / "cat" / "cat.0.png").rename(data / "test" / "dog" / "cat.0.png")
    (data / "test" / "dog" / "dog.0.png").rename(data / "test" / "cat" / "dog.0.png")
    return data


def train_and_evaluate(data: Path, out: Path, **options: Any) -> Path:
    """A run trained by ``service.train`` and evaluated on its test split by ``service.evaluate``."""
    from convlens import service
    from convlens.train import TrainConfig

    settings = {
        "model": "small_convnet",
        "image_size": 64,
        "batch_size": 4,
        "epochs": 2,
        "lr": 1e-3,
        "progress": False,
        **options,
    }
    service.train(TrainConfig(data=str(data), out=str(out), **settings))
    service.evaluate(service.EvaluateOptions(out, progress=False))
    return out


def copy_run(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)
    return target


def predictions(run: Path, split: str = "test") -> list[dict[str, Any]]:
    return json.loads((run / f"predictions_{split}.json").read_text())["records"]


def wrong_records(run: Path) -> list[dict[str, Any]]:
    return [r for r in predictions(run) if r["label"] != r["pred"]]


def hand_gradcam(model: torch.nn.Module, layer: torch.nn.Module, x: torch.Tensor, cls: int) -> np.ndarray:
    """Grad-CAM written out with autograd, independent of convlens.explain: the class score is the logit of
    ``cls``, or for a single-logit binary model ``z`` for class 1 and ``-z`` for class 0 (sigmoid(-z) = 1 - p)."""
    saved: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: saved.__setitem__("a", out))
    try:
        logits = model.eval()(x)
    finally:
        handle.remove()
    score = (logits[0, 0] if cls == 1 else -logits[0, 0]) if logits.shape[1] == 1 else logits[0, cls]
    (grads,) = torch.autograd.grad(score, saved["a"])
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * saved["a"]).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0].detach()
    low, high = cam.min(), cam.max()
    return ((cam - low) / (high - low) if high > low else torch.zeros_like(cam)).numpy()


def expected_overlay(loaded: Any, path: str, cls: int, cmap: str = "jet") -> np.ndarray:
    """The overlay the report should show: the hand-written map of the whole photo over its thumbnail."""
    from convlens.data.images import read_photo
    from convlens.explain.cam import create_explainer
    from convlens.explain.overlay import overlay
    from convlens.models.layers import get_layer
    from convlens.models.preprocess import model_input
    from convlens.service.reporting import thumbnail

    photo = read_photo(path, loaded.channels)
    x = model_input(photo, loaded.cfg)[None]
    layer_name = create_explainer("gradcam", loaded.model).resolve_layer(x)
    heat = hand_gradcam(loaded.model, get_layer(loaded.model, layer_name), x, cls)
    return overlay(thumbnail(photo), heat, cmap=cmap)


def decode_uri(uri: str) -> np.ndarray:
    """The RGB pixels of a ``data:image/...;base64,`` URI."""
    payload = uri.split(",", 1)[1]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"), dtype=np.float32)


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean())


def coarse(image: np.ndarray, cells: int = 6) -> np.ndarray:
    """Means over a ``cells`` x ``cells`` grid: what a heatmap changes survives, JPEG noise on noisy photos not."""
    array = np.asarray(image, np.float32)
    rows, cols = (
        np.array_split(np.arange(array.shape[0]), cells),
        np.array_split(np.arange(array.shape[1]), cells),
    )
    return np.array([[array[r][:, c].mean(axis=(0, 1)) for c in cols] for r in rows])
