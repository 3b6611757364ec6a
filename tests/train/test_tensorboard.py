"""``train --tensorboard``: scalars per epoch, the augmentation preview, Grad-CAM overlays; training unchanged."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from convlens.cli import main
from convlens.errors import MissingExtra
from convlens.train import TrainConfig, train

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

pytestmark = pytest.mark.usefixtures("models_contract")


def config(data, out, **kw):
    options = {
        "model": "mnist_cnn",
        "data": str(data),
        "out": str(out),
        "image_size": 32,
        "batch_size": 4,
        "epochs": 2,
        "lr": 1e-3,
        "progress": False,
    }
    return TrainConfig(**{**options, **kw})


def events(folder) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def steps(accumulator: EventAccumulator, tag: str, kind: str = "Scalars") -> list[int]:
    return [event.step for event in getattr(accumulator, kind)(tag)]


def decode(event) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))


def test_scalars_preview_and_gradcam_per_epoch(image_folder, tmp_path):
    run = train(config(image_folder, tmp_path / "run", augment="book", tensorboard=True))
    train_events, val_events = events(run.out / "tb" / "train"), events(run.out / "tb" / "validation")
    assert set(train_events.Tags()["scalars"]) == {"epoch_loss", "epoch_acc", "epoch_learning_rate"}
    assert set(val_events.Tags()["scalars"]) == {"epoch_loss", "epoch_acc"}
    for accumulator in (train_events, val_events):
        assert all(steps(accumulator, tag) == [1, 2] for tag in accumulator.Tags()["scalars"])
    for epoch, row in enumerate(run.history):
        assert train_events.Scalars("epoch_loss")[epoch].value == pytest.approx(row["loss"], rel=1e-6)
        assert val_events.Scalars("epoch_acc")[epoch].value == pytest.approx(row["val_acc"], rel=1e-6)
        assert train_events.Scalars("epoch_learning_rate")[epoch].value == pytest.approx(1e-3)

    (preview,) = train_events.Images("augmentation")
    assert preview.step == 0 and (preview.height, preview.width) == (
        2 * 34 + 2,
        8 * 34 + 2,
    )  # 2 rows of 8 + padding
    grid = decode(preview)
    assert not np.array_equal(grid[2:34], grid[36:68])  # the augmented row differs from the originals

    gradcam = val_events.Images("gradcam")
    assert [e.step for e in gradcam] == [1, 2] and (gradcam[0].height, gradcam[0].width) == (32, 32)
    photo = np.asarray(Image.open(min((image_folder / "validation" / "cat").glob("*.png"))).convert("RGB"))
    assert not np.array_equal(decode(gradcam[0]), photo)  # the JET heatmap is laid over the photo


def test_tensorboard_changes_nothing_in_training(image_folder, tmp_path):
    options = {"model": "mnist_tf", "augment": "book", "dropout": 0.3}
    plain = train(config(image_folder, tmp_path / "plain", **options))
    logged = train(config(image_folder, tmp_path / "logged", tensorboard=True, **options))
    assert logged.history == plain.history
    a, b = (load_file(str(tmp_path / name / "model.safetensors")) for name in ("plain", "logged"))
    assert all(torch.equal(a[k], b[k]) for k in a) and (tmp_path / "logged" / "tb").is_dir()
    assert not (tmp_path / "plain" / "tb").exists()


def test_resumed_run_continues_the_curves(image_folder, tmp_path):
    train(config(image_folder, tmp_path / "run", epochs=1, tensorboard=True))
    train(config(image_folder, tmp_path / "run", epochs=2, tensorboard=True, resume=True))
    train_events = events(tmp_path / "run" / "tb" / "train")
    assert steps(train_events, "epoch_loss") == [1, 2]
    assert len(train_events.Images("training_images")) == 1  # the preview is not logged again


def test_features_run_logs_scalars_only(image_folder, tmp_path):
    run = train(
        config(
            image_folder,
            tmp_path / "run",
            epochs=1,
            base="efficientnet_lite0",
            mode="features",
            tensorboard=True,
        )
    )
    train_events, val_events = events(run.out / "tb" / "train"), events(run.out / "tb" / "validation")
    assert steps(train_events, "epoch_loss") == [1] and steps(val_events, "epoch_acc") == [1]
    assert train_events.Tags()["images"] == [] and val_events.Tags()["images"] == []


def test_missing_tensorboard_says_how_to_install(image_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` now fails
    with pytest.raises(MissingExtra, match=r"pip install 'convlens\[tensorboard\]'"):
        train(config(image_folder, tmp_path / "run", tensorboard=True))
    assert not (tmp_path / "run").exists()


def test_cli_flag_and_config_file_turn_it_on(image_folder, tmp_path):
    common = [
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
    assert main(["train", str(image_folder), *common, "--out", str(tmp_path / "a"), "--tensorboard"]) == 0
    (tmp_path / "options.json").write_text(json.dumps({"tensorboard": True}))
    args = [
        "train",
        str(image_folder),
        *common,
        "--out",
        str(tmp_path / "b"),
        "--config",
        str(tmp_path / "options.json"),
    ]
    assert main(args) == 0
    for name in ("a", "b"):
        assert steps(events(tmp_path / name / "tb" / "train"), "epoch_loss") == [1]
