"""Fixtures of the train tests: tiny image folders and, until convlens.models lands, a contract stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from torch import nn

import convlens.models


def make_image_folder(
    root: Path,
    classes=("cat", "dog"),
    per_class: int = 4,
    splits=("train", "validation", "test"),
    size: int = 32,
) -> Path:
    """``root/<split>/<class>/<i>.png``: bright images for class 1, dark ones for class 0 (learnable)."""
    rng = np.random.default_rng(0)
    for split in splits:
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                pixels = rng.integers(0, 90, (size, size, 3)) + 150 * (label % 2)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{name}.{i}.png")
    return root


TINY_OPTIONS = {
    "model": "mnist_cnn",
    "image_size": 32,
    "batch_size": 4,
    "epochs": 1,
    "lr": 1e-3,
    "progress": False,
}
"""A run that trains in a second on ``make_image_folder``'s 32-px photos."""

TINY_CLI = [
    "--model",
    "mnist_cnn",
    "--image-size",
    "32",
    "--batch-size",
    "4",
    "--epochs",
    "1",
    "--no-progress",
]
"""The same run as ``convlens train`` options."""


def tiny_config(data, out, **kw):
    """A ``TrainConfig`` of ``TINY_OPTIONS`` on ``data`` into ``out``; keyword arguments override."""
    from convlens.train import TrainConfig

    return TrainConfig(**{**TINY_OPTIONS, "data": str(data), "out": str(out), **kw})


@pytest.fixture
def image_folder(tmp_path):
    return make_image_folder(tmp_path / "data")


class TinyNet(nn.Module):
    """Follows the model contract (forward_features/forward_head/get_classifier/layer_names/pretrained_cfg)."""

    def __init__(self, num_classes: int = 1, input_size=(3, 32, 32), dropout: float = 0.0):
        super().__init__()
        self.conv2d_1 = nn.Conv2d(input_size[0], 4, 3)
        self.conv2d_2 = nn.Conv2d(4, 8, 3)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(8, num_classes)
        self.pretrained_cfg = {
            "input_size": tuple(input_size),
            "mean": None,
            "std": None,
            "num_classes": num_classes,
        }

    def forward_features(self, x):
        return torch.relu(self.conv2d_2(torch.relu(self.conv2d_1(x))))

    def forward_head(self, features):
        return self.fc(self.dropout(features.mean(dim=(2, 3))))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))

    def get_classifier(self):
        return self.fc

    def layer_names(self):
        return ["conv2d_1", "conv2d_2", "fc"]


def _create(name, num_classes=None, pretrained=False, weights=None, input_size=None, **kwargs):
    if name not in ("small_convnet", "mnist_cnn", "mnist_tf", "efficientnet_lite0"):
        from convlens.errors import UnknownName

        raise UnknownName(f"unknown model {name!r}")
    torch.manual_seed(torch.initial_seed() % 2**31)
    return TinyNet(num_classes or 1000, input_size or (3, 32, 32), **kwargs)


def _save_checkpoint(model, run_dir, config):
    from convlens._io import atomic_path, write_json_atomic

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(run_dir / "model.safetensors") as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    write_json_atomic(run_dir / "config.json", config)


def _load_checkpoint(path):
    config = json.loads((Path(path) / "config.json").read_text())
    model = _create(
        config["model"],
        config["num_classes"],
        input_size=config["input_size"],
        **config.get("model_kwargs", {}),
    )
    model.load_state_dict(load_file(str(Path(path) / "model.safetensors")))
    return model.eval(), config


@pytest.fixture
def models_contract(monkeypatch):
    """The real convlens.models when it has landed, else the stand-in above."""
    if not hasattr(convlens.models, "create"):
        for name, fn in (
            ("create", _create),
            ("save_checkpoint", _save_checkpoint),
            ("load_checkpoint", _load_checkpoint),
        ):
            monkeypatch.setattr(convlens.models, name, fn, raising=False)
    return convlens.models
