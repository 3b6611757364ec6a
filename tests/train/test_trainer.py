"""The trainer loop, its events, resume, NaN guard and early stopping on a tiny nn.Sequential."""

from __future__ import annotations

import json

import pytest
import torch

from convlens.errors import CheckpointError, TrainingError
from convlens.train._device import resolve_precision
from convlens.train.callbacks import Checkpoint, EarlyStopping, History, NanGuard
from convlens.train.events import EVENTS, Callback
from convlens.train.metrics import LossFn
from convlens.train.resume import restore
from convlens.train.state import STATE_JSON
from convlens.train.trainer import Trainer

from ._helpers import TinyLoader, tiny_model, write_checkpoint

FP32 = resolve_precision("fp32", torch.device("cpu"))


class Recorder(Callback):
    def __init__(self):
        self.events = []
        for name in EVENTS:
            setattr(self, name, lambda trainer, name=name: self.events.append(name))


def make_trainer(run_dir, epochs=2, nan_at=None, optimizer="adam", callbacks=(), seed=0):
    model = tiny_model(seed=seed)
    opt = (
        torch.optim.Adam(model.parameters(), lr=0.05)
        if optimizer == "adam"
        else torch.optim.RMSprop(model.parameters(), lr=0.01)
    )
    cbs = [
        NanGuard(run_dir),
        History(run_dir),
        Checkpoint(run_dir, {"model": "tiny"}),
        *callbacks,
    ]
    loader = TinyLoader(nan_at=nan_at)
    return Trainer(model, opt, LossFn("binary"), loader, TinyLoader(n=8), epochs, FP32, cbs)


def weights(trainer):
    return torch.cat([p.detach().flatten() for p in trainer.module.parameters()])


def test_events_fire_in_order_and_loss_drops(tmp_path):
    recorder = Recorder()
    trainer = make_trainer(tmp_path, epochs=6, callbacks=[recorder])
    history = trainer.fit()
    batches = len(trainer.train_loader)
    assert recorder.events[:3] == ["before_fit", "before_epoch", "before_batch"]
    assert recorder.events.count("after_loss") == 6 * batches
    assert recorder.events[-3:] == ["after_validate", "after_epoch", "after_fit"]
    assert history[-1]["loss"] < history[0]["loss"]
    assert set(history[0]) == {"epoch", "loss", "acc", "val_loss", "val_acc"}


def test_history_and_checkpoints_are_written(tmp_path):
    make_trainer(tmp_path, epochs=2).fit()
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert rows[0].split(",") == ["epoch", "loss", "acc", "val_loss", "val_acc"] and len(rows) == 3
    assert len(json.loads((tmp_path / "history.json").read_text())) == 2
    for folder in (tmp_path, tmp_path / "best"):
        assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    assert json.loads((tmp_path / STATE_JSON).read_text())["epoch"] == 2


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_resume_continues_exactly(tmp_path, optimizer):
    straight = make_trainer(tmp_path / "a", epochs=3, optimizer=optimizer)
    straight.fit()
    first = make_trainer(tmp_path / "b", epochs=1, optimizer=optimizer)
    first.fit()
    torch.manual_seed(999)  # a fresh process would not share the RNG: the state file must restore it
    resumed = make_trainer(tmp_path / "b", epochs=3, optimizer=optimizer, seed=7)
    restore(resumed, tmp_path / "b")
    assert resumed.start_epoch == 1
    resumed.fit()
    assert torch.equal(weights(straight), weights(resumed))
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    make_trainer(tmp_path, epochs=1).fit()
    before = (tmp_path / "model.safetensors").read_bytes()
    trainer = make_trainer(tmp_path, epochs=3, nan_at=1)
    restore(trainer, tmp_path)
    with pytest.raises(TrainingError, match="loss became nan at epoch 2.*last good checkpoint \\(epoch 1\\)"):
        trainer.fit()
    assert (tmp_path / "model.safetensors").read_bytes() == before
    assert json.loads((tmp_path / STATE_JSON).read_text())["epoch"] == 1


def test_changed_resume_files_are_detected(tmp_path):
    make_trainer(tmp_path, epochs=1).fit()
    step = tmp_path / "resume" / "epoch-0001"
    write_checkpoint(
        tiny_model(seed=5), step, {"model": "tiny"}
    )  # the state's weights replaced behind its back
    with pytest.raises(CheckpointError, match="stopped while a checkpoint was written"):
        restore(make_trainer(tmp_path), tmp_path)


def test_a_torn_top_level_checkpoint_no_longer_blocks_resume(tmp_path):
    make_trainer(tmp_path, epochs=1).fit()
    write_checkpoint(tiny_model(seed=5), tmp_path, {"model": "tiny"})  # a kill between model and state files
    trainer = make_trainer(tmp_path, epochs=2)
    restore(trainer, tmp_path)
    assert trainer.start_epoch == 1


def test_early_stopping_stops_when_val_loss_stalls(tmp_path):
    stopper = EarlyStopping(patience=1, min_delta=10.0)  # nothing improves by 10: stop after epoch 2
    trainer = make_trainer(tmp_path, epochs=5, callbacks=[stopper])
    assert len(trainer.fit()) == 2
