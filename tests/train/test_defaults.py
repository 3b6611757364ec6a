"""Defaults from the network and the mode, and the README's transfer commands being exactly those defaults."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from convlens.errors import ConfigError
from convlens.train import TrainConfig
from convlens.train.defaults import HEAD_EPOCHS, HEAD_LR, MODE_EPOCHS, MODE_LR

README = Path(__file__).resolve().parents[2] / "README.md"
LITE0 = "efficientnet_lite0"


def test_features_defaults_come_from_the_base():
    config = TrainConfig(data="d", base=LITE0, mode="features")
    assert (config.image_size, config.lr, config.epochs, config.head_epochs) == (224, 1e-4, 30, 0)
    assert config.dropout == 0.0 and config.optimizer == "rmsprop" and config.batch_size == 20


def test_finetune_defaults_train_the_head_first_then_the_last_block():
    config = TrainConfig(data="d", base=LITE0, mode="finetune")
    assert (config.image_size, config.unfreeze_from) == (224, "blocks.11")
    assert (config.head_epochs, config.epochs, config.lr) == (HEAD_EPOCHS, MODE_EPOCHS["finetune"], 1e-5)
    assert HEAD_LR == MODE_LR["features"]


def test_finetune_from_another_run_has_no_head_epochs():
    assert TrainConfig(data="d", base=LITE0, mode="finetune", init_from="runs/frozen").head_epochs == 0


def test_scratch_and_frozen_keep_the_books_epochs():
    scratch = TrainConfig(data="d")
    frozen = TrainConfig(data="d", base=LITE0, mode="frozen")
    assert (scratch.image_size, scratch.lr, scratch.epochs) == (150, 1e-4, 30)
    assert (frozen.lr, frozen.epochs, frozen.head_epochs) == (2e-5, 30, 0)


def test_given_values_win_over_defaults():
    config = TrainConfig(data="d", base=LITE0, mode="finetune", epochs=3, head_epochs=0, lr=1e-4)
    assert (config.epochs, config.head_epochs, config.lr) == (3, 0, 1e-4)


@pytest.mark.parametrize(
    "options", [{"mode": "features", "head_epochs": 5}, {"mode": "finetune", "head_epochs": -1}]
)
def test_bad_head_epochs_are_clear_errors(options):
    with pytest.raises(ConfigError, match="--head-epochs"):
        TrainConfig(data="d", base=LITE0, **options)


def test_a_resumed_config_keeps_the_filled_defaults():
    config = TrainConfig(data="d", base=LITE0, mode="finetune")
    again = TrainConfig.from_dict(config.to_dict())
    assert again.differences(config) == {}


def readme_transfer_commands() -> list[list[str]]:
    """Every ``convlens train … --mode features|finetune`` command of the README, as argument lists."""
    text = README.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.split("#")[0] for line in text.splitlines() if line.startswith("convlens train ")]
    return [shlex.split(line) for line in lines if re.search(r"--mode (features|finetune)\b", line)]


def test_the_readme_transfer_commands_use_only_the_defaults(monkeypatch, tmp_path):
    """The README's features/finetune commands give only data, --base, --mode and --out; parsed by the real
    CLI they are the default configuration."""
    from typer.testing import CliRunner

    from convlens import service
    from convlens.cli import app

    commands = readme_transfer_commands()
    assert {c[c.index("--mode") + 1] for c in commands} == {"features", "finetune"}
    seen = []

    def fake_train(config, reporter=None):
        seen.append(config)
        raise SystemExit(0)

    monkeypatch.setattr(service, "train", fake_train)
    monkeypatch.chdir(tmp_path)  # the commands' data folder exists (the command line refuses a missing one first)
    for command in commands:
        (tmp_path / command[2]).mkdir(parents=True, exist_ok=True)
        options = {a for a in command[3:] if a.startswith("--")}
        assert options == {"--base", "--mode", "--out"}, command
        CliRunner().invoke(app, command[1:])
    for config in seen:
        expected = TrainConfig(data=config.data, base=LITE0, mode=config.mode, out=config.out)
        assert config.differences(expected) == {} and config.epochs == expected.epochs
    assert len(seen) == len(commands)
