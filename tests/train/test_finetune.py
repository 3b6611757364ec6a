"""``--mode finetune`` by default: the head on cached features first, then fine-tuning; one history, resumable
in either phase to the same weights as a straight run."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from convlens.train import TrainConfig, train
from convlens.train.evaluate import evaluate_run
from convlens.train.trainer import Trainer

pytestmark = pytest.mark.usefixtures("models_contract")


def config(data, out, **kw):
    options = {
        "data": str(data),
        "out": str(out),
        "base": "efficientnet_lite0",
        "mode": "finetune",
        "pretrained": False,
        "image_size": 32,
        "batch_size": 4,
        "head_epochs": 2,
        "epochs": 2,
        "progress": False,
    }
    return TrainConfig(**{**options, **kw})


def test_head_epochs_then_fine_tuning_in_one_history(image_folder, tmp_path):
    run = train(config(image_folder, tmp_path / "run"))
    assert [row["phase"] for row in run.history] == ["head", "head", "finetune", "finetune"]
    assert [row["epoch"] for row in run.history] == [1, 2, 3, 4]
    saved = json.loads((run.out / "config.json").read_text())
    assert [(p["phase"], p["epochs"], p["lr"]) for p in saved["phases"]] == [
        ("head", [1, 2], 1e-4),
        ("finetune", [3, 4], 1e-5),
    ]
    assert saved["train"]["head_epochs"] == 2 and saved["epoch"] == 4
    assert saved["trainable"]["tensors"] > 4  # the fine-tuning phase trains blocks.11 on, not the head alone
    assert "phase" in (run.out / "history.csv").read_text().splitlines()[0]
    assert evaluate_run(run.out, progress=False)["count"] == 8


def test_frozen_layers_stay_in_inference_mode(image_folder, tmp_path):
    """Keras-like: the layers before --unfreeze-from keep their batch-norm statistics."""
    run = train(config(image_folder, tmp_path / "run", head_epochs=1, epochs=1))
    base = run.model.base
    # untrained weights: every running mean starts at 0 and every running variance at 1
    before = nn.ModuleList([base.stem, *base.blocks[:11]])  # the layers before blocks.11
    frozen = [m for m in before.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(frozen) > 20 and all(int(m.num_batches_tracked) == 0 for m in frozen)
    assert all(torch.equal(m.running_var, torch.ones_like(m.running_var)) for m in frozen)
    assert all(torch.equal(m.running_mean, torch.zeros_like(m.running_mean)) for m in frozen)
    assert not torch.equal(base.blocks[15].project.bn.running_mean, torch.zeros(320))


class Killed(Exception):
    pass


@pytest.mark.parametrize("killed_at", [1, 2, 3])  # in the head phase, at its end, in the fine-tuning phase
def test_resume_in_either_phase_matches_a_straight_run(image_folder, tmp_path, monkeypatch, killed_at):
    straight = train(config(image_folder, tmp_path / "straight"))
    original = Trainer.run_epoch

    def run_epoch(self, epoch):
        if epoch == killed_at:
            raise Killed
        original(self, epoch)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "run_epoch", run_epoch)
        with pytest.raises(Killed):
            train(config(image_folder, tmp_path / "resumed"))
    resumed = train(config(image_folder, tmp_path / "resumed", resume=True))
    # the first epoch run after the resume carries the mark, also when it is the first fine-tuning epoch
    assert [row.pop("resumed", False) for row in resumed.history] == [i == killed_at for i in range(4)]
    assert resumed.history == straight.history
    expected = load_file(str(straight.out / "model.safetensors"))
    got = load_file(str(resumed.out / "model.safetensors"))
    assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)
