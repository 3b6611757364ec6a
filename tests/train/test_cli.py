"""CLI smoke tests: real commands on 8 images at 32 px for 1 epoch."""

from __future__ import annotations

import json

import pytest

from convlens.cli import main

from .conftest import TINY_CLI

pytestmark = pytest.mark.usefixtures("models_contract")


def test_train_then_evaluate(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        str(image_folder),
        "--out",
        str(out),
        *TINY_CLI,
    ]
    assert main(args) == 0
    assert "1 epochs" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--split", "test", "--no-progress"]) == 0
    assert "accuracy" in capsys.readouterr().out
    assert json.loads((out / "metrics.json").read_text())["split"] == "test"


def test_config_file_and_cli_override(image_folder, tmp_path):
    cfg = tmp_path / "train.yaml"
    cfg.write_text(
        f"data: {image_folder}\nmodel: mnist_cnn\nimage-size: 32\nbatch_size: 4\nepochs: 3\nlr: 0.001\nprogress: false\n"
    )
    out = tmp_path / "run"
    assert main(["train", str(image_folder), "--config", str(cfg), "--epochs", "1", "--out", str(out)]) == 0
    saved = json.loads((out / "config.json").read_text())["train"]
    assert saved["epochs"] == 1 and saved["lr"] == 0.001 and saved["image_size"] == 32


def test_bad_option_is_one_red_line(image_folder, tmp_path, capsys):
    code = main(["train", str(image_folder), "--optimizer", "adagrad", "--out", str(tmp_path / "r")])
    assert (
        code == 1
        and "--optimizer 'adagrad' is not one of: rmsprop, adam, adamw, sgd" in capsys.readouterr().err
    )
