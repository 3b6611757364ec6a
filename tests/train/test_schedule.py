"""``--schedule`` and ``--warmup-epochs``: the learning rate per step is the documented formula."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from convlens.train.callbacks import Checkpoint, History, NanGuard
from convlens.train.events import Callback
from convlens.train.schedule import SCHEDULES, LRSchedule, lr_factor
from convlens.train.trainer import Trainer

from ._helpers import TinyLoader, tiny_model
from .test_trainer import FP32, LossFn


def test_every_schedule_starts_positive_and_never_exceeds_the_peak():
    for name in SCHEDULES:
        factors = [lr_factor(name, s, 50, 5) for s in range(50)]
        assert all(0 <= f <= 1 + 1e-12 for f in factors) and factors[0] > 0, name


def test_constant_warms_up_linearly_then_holds():
    assert [lr_factor("constant", s, 10, 4) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert {lr_factor("constant", s, 10, 0) for s in range(10)} == {1.0}


def test_cosine_goes_from_the_peak_after_warmup_to_zero_at_the_last_step():
    total, warmup = 22, 1
    assert lr_factor("cosine", 0, total, warmup) == 1.0
    assert lr_factor("cosine", warmup, total, warmup) == pytest.approx(1.0)
    assert lr_factor("cosine", 11, total, warmup) == pytest.approx(0.5)  # half-way through the decay
    assert lr_factor("cosine", total - 1, total, warmup) == pytest.approx(0.0, abs=1e-12)
    decay = [lr_factor("cosine", s, total, warmup) for s in range(warmup, total)]
    assert all(a > b for a, b in itertools.pairwise(decay))


@pytest.mark.parametrize("total", [20, 37, 100])
def test_onecycle_is_torchs_onecyclelr(total):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=1.0)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=total)
    expected = []
    for _ in range(total):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert [lr_factor("onecycle", s, total, 0) for s in range(total)] == pytest.approx(expected, abs=1e-12)


def test_onecycle_warmup_epochs_set_where_the_peak_is():
    factors = [lr_factor("onecycle", s, 40, 10) for s in range(40)]
    assert max(range(40), key=factors.__getitem__) == 9 and factors[0] == pytest.approx(1 / 25)


class LrRecorder(Callback):
    order = 50  # after LRSchedule (5)

    def __init__(self):
        self.lrs = []

    def before_batch(self, trainer):
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])


@pytest.mark.parametrize("name", ["cosine", "onecycle"])
def test_the_trainer_applies_the_schedule_at_every_step(tmp_path, name):
    model, recorder = tiny_model(), LrRecorder()
    optimizer = torch.optim.SGD(model.parameters(), lr=123.0)  # the schedule, not this rate, must win
    callbacks = [NanGuard(tmp_path), History(tmp_path), Checkpoint(tmp_path, {}), LRSchedule(name, 0.1, 1.0)]
    loader = TinyLoader(n=16, batch_size=4)
    trainer = Trainer(model, optimizer, LossFn("binary"), loader, None, 3, FP32, [*callbacks, recorder])
    history = trainer.fit()
    total, warmup = 3 * len(loader), len(loader)
    expected = [0.1 * lr_factor(name, s, total, warmup) for s in range(total)]
    assert recorder.lrs == pytest.approx(expected) and len(set(recorder.lrs)) > total // 2
    assert history[-1]["lr"] == pytest.approx(expected[-1])
    assert math.isfinite(history[-1]["loss"])
