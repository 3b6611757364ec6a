"""The first epoch after ``--resume`` is marked in the history, so the curves can show where a run resumed."""

from __future__ import annotations

import json

import pytest

from convlens.cli import main
from convlens.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("models_contract")


def _config(data, out, **kw) -> TrainConfig:
    options = {"model": "mnist_cnn", "data": str(data), "out": str(out), "image_size": 32, "batch_size": 4}
    return TrainConfig(**{**options, "lr": 1e-3, "progress": False, **kw})


def test_the_first_epoch_after_a_resume_is_marked(image_folder, tmp_path):
    out = tmp_path / "run"
    train(_config(image_folder, out, epochs=1))
    run = train(_config(image_folder, out, epochs=3, resume=True))
    assert [row.get("resumed", False) for row in run.history] == [False, True, False]
    assert json.loads((out / "history.json").read_text())[1]["resumed"] is True
    assert (out / "history.csv").read_text().splitlines()[0].endswith(",resumed")
    again = train(_config(image_folder, out, epochs=4, resume=True))
    assert [row.get("resumed", False) for row in again.history] == [False, True, False, True]


def test_the_cli_prints_metrics_but_not_the_mark(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", str(image_folder), "--model", "mnist_cnn", "--image-size", "32", "--batch-size", "4",
            "--lr", "1e-3", "--out", str(out), "--no-progress"]
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "2 epochs" in last and "val_acc" in last and "resumed" not in last
