"""``--mode finetune`` by default: the head on cached features first, then fine-tuning; one history, resumable
in either phase to the same weights as a straight run."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

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


@pytest.mark.parametrize("augment", [None, "book"])  # on cached activations, and end to end
def test_the_base_stays_in_inference_mode(image_folder, tmp_path, monkeypatch, augment):
    """Keras' fine-tuning advice: every batch-norm layer keeps its running statistics, the unfrozen blocks' too,
    while their weights (batch-norm shifts and scales included) train."""
    after: dict[str, torch.Tensor] = {}  # the base after the fine-tuning epoch (the run may restore the best)
    original = Trainer.run_epoch

    def run_epoch(self, epoch):
        original(self, epoch)
        after.update({k: v.clone() for k, v in self.module.state_dict().items()})

    monkeypatch.setattr(Trainer, "run_epoch", run_epoch)
    train(config(image_folder, tmp_path / "run", head_epochs=1, epochs=1, augment=augment))
    # the last epoch trained blocks.11 on, on cached activations (chain.0 = blocks.11) or end to end
    first = "chain.0." if augment is None else "base.blocks.11."
    assert first + "expand.bn.running_mean" in after
    # untrained weights: every running mean and batch-norm shift starts at 0, every running variance at 1
    means = [v for k, v in after.items() if k.endswith("running_mean")]
    variances = [v for k, v in after.items() if k.endswith("running_var")]
    assert len(means) > 10 and all(torch.equal(v, torch.zeros_like(v)) for v in means)
    assert all(torch.equal(v, torch.ones_like(v)) for v in variances)
    assert all(int(v) == 0 for k, v in after.items() if k.endswith("num_batches_tracked"))
    shift = after[first + "expand.bn.bias"]
    assert not torch.equal(shift, torch.zeros_like(shift))  # trained
    if augment is not None:
        frozen = after["base.blocks.10.expand.bn.bias"]
        assert torch.equal(frozen, torch.zeros_like(frozen))


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
