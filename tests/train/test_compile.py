"""``--compile``: the compiled training step matches eager mode, caches its kernels, and fails clearly."""

from __future__ import annotations

import shutil

import pytest
import torch
from torch import nn

from convlens.errors import ConfigError
from convlens.train import compile as compile_module
from convlens.train.metrics import LossFn
from convlens.train.trainer import Trainer

from ._helpers import TinyLoader
from .test_trainer import FP32


def _model() -> nn.Module:  # no dropout: compiled code draws its own random numbers
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 1))


def _losses(compile: bool) -> tuple[list[float], nn.Module]:
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    trainer = Trainer(model, optimizer, LossFn("binary"), TinyLoader(), None, 2, FP32, compile=compile)
    losses: list[float] = []
    for epoch in range(2):
        trainer.epoch = epoch
        trainer.train_loader.set_epoch(epoch)
        for batch in trainer.train_loader:
            trainer.batch = batch
            trainer._step()
            losses.append(trainer.loss.item())
    return losses, trainer.module


@pytest.mark.skipif(compile_module._cxx() is None, reason="torch.compile on a CPU needs a C++ compiler")
def test_compiled_steps_match_eager_and_cache_their_kernels(tmp_path, monkeypatch):
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("CONVLENS_CACHE", str(tmp_path))
    eager, eager_model = _losses(compile=False)
    compiled, compiled_model = _losses(compile=True)
    assert len(compiled) == 8
    assert compiled == pytest.approx(eager, rel=1e-4, abs=1e-5)
    for (name, a), (_, b) in zip(eager_model.state_dict().items(), compiled_model.state_dict().items()):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), name  # the plain module holds the trained weights
    cached = [p for p in (tmp_path / "inductor").rglob("*") if p.is_file()]
    assert cached, "the compiled kernels were not written under <convlens cache>/inductor"


def test_no_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="C\\+\\+ compiler"):
        compile_module.compile_model(_model(), torch.device("cpu"))


def test_prefetch_is_checked_and_may_change_on_resume():
    from convlens.train import TrainConfig
    from convlens.train.config import RESUMABLE_CHANGES

    with pytest.raises(ConfigError, match="--prefetch"):
        TrainConfig(data="x", prefetch=-1)
    assert TrainConfig(data="x").prefetch == 0 and not TrainConfig(data="x").compile
    assert {"prefetch", "compile"} <= RESUMABLE_CHANGES  # how a step is run, not what is trained


def test_the_train_command_defaults_are_the_configs():
    import inspect

    from convlens._cli.train import train_command
    from convlens.train import TrainConfig

    defaults = TrainConfig(data="x")
    signature = inspect.signature(train_command).parameters
    for name in ("prefetch", "compile", "schedule", "init", "label_smoothing"):
        assert signature[name].default.default == getattr(defaults, name), name
