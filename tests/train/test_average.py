"""``--ema``: the averaged weights follow the documented recurrence, are what is validated and saved, and
survive ``--resume``."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.train import TrainConfig
from convlens.train.average import WeightAverage
from convlens.train.events import Callback
from convlens.train.resume import restore

from .test_trainer import make_trainer, weights


class StepWeights(Callback):
    """Records the trained weights after every optimizer step (runs after WeightAverage's update)."""

    order = 50

    def __init__(self):
        self.steps = []

    def after_batch(self, trainer):
        self.steps.append({k: v.detach().clone() for k, v in trainer.module.state_dict().items()})


def expected_average(steps, decay):
    average = dict(steps[0])  # the first step is copied, then w_avg <- decay * w_avg + (1 - decay) * w
    for step in steps[1:]:
        average = {k: decay * average[k] + (1 - decay) * step[k] for k in average}
    return average


def test_the_average_follows_the_recurrence_and_is_what_is_saved_and_returned(tmp_path):
    recorder = StepWeights()
    trainer = make_trainer(tmp_path, epochs=3, callbacks=[WeightAverage(0.8), recorder])
    trainer.fit()
    expected = expected_average(recorder.steps, 0.8)
    saved = load_file(tmp_path / "model.safetensors")
    for name, value in expected.items():
        torch.testing.assert_close(saved[name], value, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(trainer.module.state_dict()[name], value, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(recorder.steps[-1]["5.weight"], expected["5.weight"])  # it is not the last step


def test_validation_scores_the_averaged_weights(tmp_path):
    averaged = make_trainer(tmp_path / "ema", epochs=2, callbacks=[WeightAverage(0.9)])
    averaged.fit()
    plain = make_trainer(tmp_path / "plain", epochs=2)
    plain.fit()
    assert [h["loss"] for h in averaged.history] == [h["loss"] for h in plain.history]  # same training
    assert averaged.history[-1]["val_loss"] != plain.history[-1]["val_loss"]
    assert averaged.evaluate(averaged.val_loader)["loss"] == pytest.approx(averaged.history[-1]["val_loss"])
    assert averaged.eval_module is averaged.module  # after fit the module holds the average


def test_resume_continues_the_same_average(tmp_path):
    straight = make_trainer(tmp_path / "a", epochs=3, callbacks=[WeightAverage(0.7)])
    straight.fit()
    first = make_trainer(tmp_path / "b", epochs=1, callbacks=[WeightAverage(0.7)])
    first.fit()
    state = json.loads((tmp_path / "b" / "train_state.json").read_text())
    assert "WeightAverage" in state["callbacks"]
    torch.manual_seed(999)
    resumed = make_trainer(tmp_path / "b", epochs=3, callbacks=[WeightAverage(0.7)], seed=7)
    restore(resumed, tmp_path / "b")
    resumed.fit()
    assert torch.equal(weights(straight), weights(resumed))
    assert [h["val_loss"] for h in straight.history] == [h["val_loss"] for h in resumed.history]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"ema": 1.0}, "--ema 1.0 must be a decay between 0 and 1"),
        ({"ema": 0.0}, "--ema 0.0 must be"),
        ({"ema": float("nan")}, "--ema nan must be"),
        ({"ema": 0.99, "mode": "features", "base": "efficientnet_lite0"}, "--mode features"),
        ({"ema": 0.99, "mode": "finetune", "base": "efficientnet_lite0"}, "--head-epochs 0"),
    ],
)
def test_bad_ema_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(data="x", progress=False, **options)
    if options.get("mode") == "finetune":
        assert TrainConfig(data="x", head_epochs=0, **options).ema == 0.99


@pytest.mark.usefixtures("models_contract")
def test_cli_ema_run_saves_the_weights_its_validation_scored(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", str(image_folder), "--out", str(out), "--model", "mnist_cnn", "--image-size", "32"]
    args += ["--batch-size", "4", "--epochs", "2", "--no-progress", "--optimizer", "adam", "--ema", "0.9"]
    assert main(args) == 0
    assert json.loads((out / "config.json").read_text())["train"]["ema"] == 0.9
    last = json.loads((out / "history.json").read_text())[-1]
    capsys.readouterr()
    assert main(["evaluate", str(out), "--split", "validation", "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "validation" and metrics["accuracy"] == pytest.approx(last["val_acc"])
    assert metrics["loss"] == pytest.approx(last["val_loss"], rel=1e-4)
