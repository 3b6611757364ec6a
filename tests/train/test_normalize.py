"""``--normalize``: per-channel input standardisation learnt from the training photos, kept in the checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from convlens.cli import main
from convlens.data import BatchLoader, resolve_dataset
from convlens.errors import ConfigError
from convlens.train import TrainConfig, normalize
from convlens.train.normalize import channel_stats

from .conftest import TINY_CLI


def test_channel_stats_are_the_mean_and_std_of_every_pixel_whatever_the_chunking(monkeypatch):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    images[..., 2] //= 4  # channels with different statistics
    monkeypatch.setattr(normalize, "CHUNK", 3)  # 7 images: chunks of 3, 3 and 1
    mean, std = channel_stats(images)
    pixels = images.reshape(-1, 3) / 255.0
    np.testing.assert_allclose(mean, pixels.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, pixels.std(axis=0), rtol=1e-9)
    assert mean[2] < mean[0] / 2


def test_a_constant_channel_is_centred_not_divided_by_zero():
    images = np.full((2, 4, 4, 1), 77, dtype=np.uint8)
    mean, std = channel_stats(images)
    assert mean == pytest.approx([77 / 255]) and std == [1.0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"normalize": "imagenet"}, "is not one of: none, dataset"),
        ({"normalize": "dataset", "base": "efficientnet_lite0", "mode": "features"}, "from scratch"),
        ({"normalize": "dataset", "init_from": "runs/earlier"}, "--init-from"),
    ],
)
def test_bad_normalize_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(data="d", **options)


def _train(data, out, *extra):
    assert main(["train", str(data), "--out", str(out), *TINY_CLI, "--optimizer", "adam", *extra]) == 0
    return json.loads((out / "config.json").read_text())


def test_dataset_normalisation_standardises_what_training_sees_and_is_kept(image_folder, tmp_path):
    config = _train(image_folder, tmp_path / "run", "--normalize", "dataset")
    train = resolve_dataset(str(image_folder), image_size=(32, 32)).train
    expected_mean, expected_std = channel_stats(train.images)
    cfg = config["pretrained_cfg"]
    assert cfg["mean"] == pytest.approx(expected_mean) and cfg["std"] == pytest.approx(expected_std)
    assert config["train"]["normalize"] == "dataset"
    # the photos as the training loader feeds them: each channel centred at 0 with unit spread
    batches = BatchLoader(train, batch_size=3, mean=cfg["mean"], std=cfg["std"])
    pixels = torch.cat([x for x, _ in batches]).transpose(0, 1).reshape(3, -1).double()
    np.testing.assert_allclose(pixels.mean(dim=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(pixels.std(dim=1, correction=0), 1.0, atol=1e-5)


def test_the_default_keeps_the_seeds_0_to_1_inputs(image_folder, tmp_path):
    cfg = _train(image_folder, tmp_path / "run")["pretrained_cfg"]
    assert cfg.get("mean") is None and cfg.get("std") is None


def test_evaluate_prepares_photos_as_training_did(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    _train(image_folder, out, "--normalize", "dataset", "--epochs", "2")
    last = json.loads((out / "history.json").read_text())[-1]
    capsys.readouterr()
    assert main(["evaluate", str(out), "--split", "validation", "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    # the validation loss of the last epoch, reproduced from the checkpoint: the same inputs, not 0-1 ones
    assert metrics["loss"] == pytest.approx(last["val_loss"], rel=1e-4)


def test_a_run_started_from_a_normalised_run_keeps_its_inputs(image_folder, tmp_path):
    first = _train(image_folder, tmp_path / "first", "--normalize", "dataset")
    second = _train(image_folder, tmp_path / "second", "--init-from", str(tmp_path / "first"))
    assert second["pretrained_cfg"]["mean"] == first["pretrained_cfg"]["mean"]
    assert second["pretrained_cfg"]["std"] == first["pretrained_cfg"]["std"]
