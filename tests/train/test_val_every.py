"""``--val-every N``: validation after every N-th epoch and the last; best/, early stopping and the target judge
validated epochs only."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.train import TrainConfig
from convlens.train.callbacks import Checkpoint, EarlyStopping, History, NanGuard
from convlens.train.events import Callback
from convlens.train.metrics import LossFn
from convlens.train.target import TargetAccuracy
from convlens.train.trainer import Trainer

from ._helpers import TinyLoader, tiny_model
from .test_trainer import FP32


class CountingLoader(TinyLoader):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        yield from super().__iter__()


class ScriptedLoss(Callback):
    """Sets the validation metrics of a validated epoch from a script (keyed by 1-based epoch)."""

    order = 1

    def __init__(self, script):
        self.script = script

    def after_validate(self, trainer):
        if "val_loss" in trainer.logs:
            trainer.logs["val_loss"], trainer.logs["val_acc"] = self.script[trainer.epoch + 1]


def fit(run_dir, epochs, val_every, extra=()):
    model = tiny_model()
    callbacks = [NanGuard(run_dir), History(run_dir), Checkpoint(run_dir, {"model": "tiny"}), *extra]
    val = CountingLoader(n=8)
    trainer = Trainer(
        model,
        torch.optim.Adam(model.parameters(), lr=0.05),
        LossFn("binary"),
        TinyLoader(),
        val,
        epochs,
        FP32,
        callbacks,
        val_every=val_every,
    )
    return trainer.fit(), val.passes


@pytest.mark.parametrize(("epochs", "every", "validated"), [(5, 2, [2, 4, 5]), (5, 3, [3, 5]), (3, 1, [1, 2, 3])])
def test_validation_runs_every_nth_epoch_and_after_the_last(tmp_path, epochs, every, validated):
    history, passes = fit(tmp_path, epochs, every)
    assert [row["epoch"] for row in history if "val_loss" in row] == validated
    assert passes == len(validated)
    assert all("loss" in row and "acc" in row for row in history)
    assert json.loads((tmp_path / "history.json").read_text()) == history


def test_best_checkpoint_is_chosen_among_validated_epochs(tmp_path):
    # validation losses far above any training loss: a skipped epoch judged by its training loss would win
    script = {2: (5.0, 0.5), 4: (4.0, 0.6), 6: (4.5, 0.55)}
    fit(tmp_path, 6, 2, [ScriptedLoss(script)])
    best = json.loads((tmp_path / "best" / "config.json").read_text())
    assert best["epoch"] == 4 and best["metrics"]["val_loss"] == 4.0


def test_target_accuracy_stops_only_on_a_validated_epoch(tmp_path):
    history, _ = fit(tmp_path, 6, 3, [TargetAccuracy(tmp_path, 0.01)])  # any accuracy reaches 0.01
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert json.loads((tmp_path / "config.json").read_text())["epoch"] == 3


def test_early_stopping_patience_counts_validated_epochs(tmp_path):
    script = {2: (5.0, 0.5), 4: (5.0, 0.5), 6: (5.0, 0.5), 8: (5.0, 0.5)}
    stopper = EarlyStopping(patience=1, min_delta=10.0)  # nothing improves by 10: stop at the 2nd validation
    history, _ = fit(tmp_path, 8, 2, [ScriptedLoss(script), stopper])
    assert len(history) == 4


def test_val_every_must_be_positive_and_may_change_on_resume():
    with pytest.raises(ConfigError, match="--val-every 0 must be >= 1"):
        TrainConfig(data="x", val_every=0)
    a, b = TrainConfig(data="x"), TrainConfig(data="x", val_every=3)
    assert a.val_every == 1 and b.differences(a) == {}


@pytest.mark.usefixtures("models_contract")
def test_cli_val_every_skips_validation_between(image_folder, tmp_path):
    out = tmp_path / "run"
    args = ["train", str(image_folder), "--out", str(out), "--model", "mnist_cnn", "--image-size", "32"]
    args += ["--batch-size", "4", "--epochs", "3", "--no-progress", "--val-every", "2"]
    assert main(args) == 0
    history = json.loads((out / "history.json").read_text())
    assert [("val_acc" in row) for row in history] == [False, True, True]
    assert json.loads((out / "config.json").read_text())["train"]["val_every"] == 2
    assert (out / "curves.png").stat().st_size > 0


def test_skipping_validation_does_not_change_what_is_trained(tmp_path):
    every, _ = fit(tmp_path / "a", 4, 1)
    sparse, _ = fit(tmp_path / "b", 4, 3)
    assert [(r["loss"], r["acc"]) for r in sparse] == [(r["loss"], r["acc"]) for r in every]
    final = {name: load_file(str(tmp_path / name / "model.safetensors")) for name in ("a", "b")}
    assert final["a"].keys() == final["b"].keys()
    assert all(torch.equal(final["a"][k], final["b"][k]) for k in final["a"])
