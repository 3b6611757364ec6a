"""``--init``, AdamW and ``--weight-decay``, ``--label-smoothing``, ``--target-accuracy``, ``--recipe``."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.train import TrainConfig, _build, _models
from convlens.train.callbacks import Checkpoint, History, NanGuard
from convlens.train.events import Callback
from convlens.train.init import INITS
from convlens.train.metrics import LossFn
from convlens.train.normalize import NORMALIZATIONS
from convlens.train.optim import OPTIMIZERS
from convlens.train.recipes import RECIPES
from convlens.train.schedule import SCHEDULES
from convlens.train.target import TargetAccuracy
from convlens.train.trainer import Trainer

from ._helpers import TinyLoader, tiny_model
from .test_trainer import FP32


def options(**kw):
    return TrainConfig(**{"data": "x", "model": "mnist_cnn", "progress": False, **kw})


def test_keras_init_draws_within_glorot_bounds_with_zero_biases():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Flatten(), nn.Linear(300, 20))
    INITS["keras"](model)
    for layer, fan_in, fan_out in ((model[0], 3 * 9, 32 * 9), (model[2], 300, 20)):
        bound = math.sqrt(6 / (fan_in + fan_out))
        w = layer.weight.detach()
        assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
        assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)  # U(-b, b) has std b/sqrt(3)
        assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize("init", ["torch", "keras"])
def test_a_scratch_model_starts_from_the_chosen_init(init):
    config = options(init=init, image_size=28, channels=1)
    model = _models.build_model(config, SimpleNamespace(classes=list("0123456789")), "categorical")
    biases = [m.bias for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(biases) == 3
    assert all(torch.count_nonzero(b) == 0 for b in biases) == (init == "keras")


def test_adamw_decouples_weight_decay_and_others_take_it_as_l2():
    params = [nn.Parameter(torch.ones(2))]
    adamw = _build.make_optimizer(options(optimizer="adamw"), nn.Linear(2, 1))
    assert isinstance(adamw, torch.optim.AdamW) and adamw.defaults["weight_decay"] == 1e-2
    assert OPTIMIZERS["adamw"](params, 1e-3, 0.05).defaults["weight_decay"] == 0.05
    adam = OPTIMIZERS["adam"](params, 1e-3, 0.1)
    assert type(adam) is torch.optim.Adam and adam.defaults["weight_decay"] == 0.1
    assert OPTIMIZERS["rmsprop"](params, 1e-3, None).defaults["weight_decay"] == 0.0


def test_label_smoothing_matches_the_smoothed_cross_entropy():
    torch.manual_seed(0)
    logits, target, eps = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1]), 0.2
    soft = F.one_hot(target, 4).float() * (1 - eps) + eps / 4
    expected = -(soft * logits.log_softmax(1)).sum(1).mean()
    assert LossFn("categorical", eps)(logits, target) == pytest.approx(expected.item(), rel=1e-6)
    one, labels = torch.randn(6, 1), torch.tensor([0, 1, 1, 0, 1, 0])
    p, q = torch.sigmoid(one.flatten()), labels.float() * (1 - eps) + eps / 2
    expected = -(q * p.log() + (1 - q) * (1 - p).log()).mean()
    assert LossFn("binary", eps)(one, labels) == pytest.approx(expected.item(), rel=1e-5)
    assert LossFn("binary", eps)(one, labels) != pytest.approx(LossFn("binary")(one, labels).item())


def test_validation_loss_is_measured_against_the_true_labels(tmp_path):
    model, val = tiny_model(), TinyLoader(n=8)
    trainer = Trainer(
        model, torch.optim.SGD(model.parameters(), lr=0.0), LossFn("binary", 0.3), TinyLoader(), val, 1, FP32
    )
    logs = trainer.evaluate(val)
    plain, model = LossFn("binary"), model.eval()  # evaluate() runs in eval mode: no dropout
    with torch.no_grad():
        expected = sum(plain(model(x), y, reduction="sum").item() for x, y in val) / 8
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)


class ScriptedValidation(Callback):
    """Replaces the measured validation metrics by a script, so that the stop and the best epoch are known."""

    order = 1

    def __init__(self, script):
        self.script = script

    def after_validate(self, trainer):
        trainer.logs["val_loss"], trainer.logs["val_acc"] = self.script[trainer.epoch]

    def after_epoch(self, trainer):  # the weights of the last epoch, before anything restores others
        self.last = {k: v.clone() for k, v in trainer.module.state_dict().items()}


def fit_scripted(run_dir, script, target):
    scripted = ScriptedValidation(script)
    model = tiny_model()
    callbacks = [NanGuard(run_dir), History(run_dir), Checkpoint(run_dir, {"model": "tiny"}), scripted]
    callbacks.append(TargetAccuracy(run_dir, target))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    trainer = Trainer(
        model, optimizer, LossFn("binary"), TinyLoader(), TinyLoader(n=8), len(script), FP32, callbacks
    )
    history = trainer.fit()
    files = {name: load_file(str(run_dir / name / "model.safetensors")) for name in ("", "best")}
    return history, model, scripted.last, files


def same(a, b):
    return all(torch.equal(a[k], v) for k, v in b.items())


def test_target_accuracy_stops_at_the_first_epoch_that_reaches_it_and_keeps_it(tmp_path):
    script = [(0.6, 0.5), (0.3, 0.7), (0.4, 0.85), (0.2, 0.9), (0.1, 0.95)]  # best val_loss: epoch 2 (0.7)
    history, model, last, files = fit_scripted(tmp_path, script, 0.8)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert same(files[""], last) and same(model.state_dict(), last) and not same(files["best"], last)
    assert json.loads((tmp_path / "config.json").read_text())["epoch"] == 3


def test_target_accuracy_never_reached_restores_the_best_checkpoint(tmp_path):
    script = [(0.6, 0.5), (0.2, 0.7), (0.4, 0.75), (0.3, 0.8), (0.5, 0.7)]  # best val_loss: epoch 2
    history, model, last, files = fit_scripted(tmp_path, script, 0.9)
    assert len(history) == 5
    assert (
        same(files[""], files["best"])
        and same(model.state_dict(), files["best"])
        and not same(files[""], last)
    )
    assert json.loads((tmp_path / "config.json").read_text())["epoch"] == 2


def test_target_accuracy_adds_its_callbacks_and_a_constant_schedule_adds_none(tmp_path):
    kinds = [
        type(c) for c in _build.speed_callbacks(options(target_accuracy=0.9), _build.RunDir(tmp_path), None)
    ]
    assert kinds == [TargetAccuracy]
    assert _build.speed_callbacks(options(), _build.RunDir(tmp_path), None) == []


def test_recipe_book_is_the_seeds_rmsprop_recipe_and_given_options_win():
    config = options(recipe="book", model="small_convnet")
    assert (config.optimizer, config.lr, config.batch_size, config.epochs) == ("rmsprop", 1e-4, 32, 160)
    assert (config.augment, config.dropout, config.init, config.schedule) == (
        "book",
        0.5,
        "keras",
        "constant",
    )
    optimizer = _build.make_optimizer(config, nn.Linear(2, 1))
    assert type(optimizer) is torch.optim.RMSprop and optimizer.defaults["lr"] == 1e-4
    assert options(recipe="book", lr=1e-3, optimizer="adam").optimizer == "adam"
    assert options(recipe="book", lr=1e-3).lr == 1e-3


def test_recipe_fast_is_adam_onecycle_with_the_books_augmentation():
    config = options(recipe="fast", model="small_convnet")
    assert (config.optimizer, config.lr, config.schedule, config.batch_size, config.epochs) == (
        "adam",
        1e-3,
        "onecycle",
        32,
        80,
    )
    assert (config.augment, config.dropout, config.init, config.normalize) == ("book", 0.5, "keras", "dataset")
    assert options(recipe="fast", epochs=30).epochs == 30


def test_a_given_option_wins_over_the_recipe_even_at_its_default():
    given = {"data": "x", "model": "small_convnet", "recipe": "fast", "normalize": "none", "init": "torch"}
    config = TrainConfig.from_dict(given)
    assert (config.normalize, config.init) == ("none", "torch")
    assert (config.optimizer, config.schedule, config.epochs) == ("adam", "onecycle", 80)  # the rest filled
    copy = config.replace(out="elsewhere")  # the trainer's copies apply no recipe twice
    assert (copy.normalize, copy.init, copy.out) == ("none", "torch", "elsewhere")
    assert TrainConfig.from_dict(config.to_dict()) == config  # config.json reads back as saved
    assert options(recipe="fast", normalize="none").normalize == "dataset"  # direct: defaults count as unset


def test_a_run_saved_before_an_option_existed_keeps_its_default_not_the_recipes(tmp_path):
    from convlens.errors import TrainingError
    from convlens.train.resume import check_resume_config

    run = _build.RunDir(tmp_path / "old")
    run.path.mkdir()
    old = TrainConfig(data="x", recipe="fast", out=str(run.path)).to_dict()
    del old["normalize"]  # config.json of a `--recipe fast` run from before --normalize
    assert TrainConfig.from_dict(old, saved=True).normalize == "none"  # it trained on 0-1 pixels
    run.config_path.write_text(json.dumps({"model": "small_convnet", "train": old}), encoding="utf-8")
    today = TrainConfig.from_dict({**old, "resume": True})  # `--recipe fast --resume` today
    with pytest.raises(TrainingError, match="--normalize was 'none', now 'dataset'"):
        check_resume_config(run, today)
    check_resume_config(run, TrainConfig.from_dict({**old, "resume": True, "normalize": "none"}))


def test_train_command_passes_the_options_given_at_their_defaults(monkeypatch, tmp_path):
    from convlens import service

    seen = []

    def fake_train(config, reporter=None):
        seen.append(config)
        raise SystemExit(0)

    monkeypatch.setattr(service, "train", fake_train)
    (tmp_path / "photos").mkdir()
    args = ["train", str(tmp_path / "photos"), "--recipe", "fast", "--normalize", "none", "--batch-size", "20"]
    main(args)
    assert len(seen) == 1
    assert (seen[0].normalize, seen[0].batch_size, seen[0].optimizer) == ("none", 20, "adam")


@pytest.mark.parametrize(
    "start", [{"base": "efficientnet_lite0", "mode": "frozen"}, {"init_from": "runs/earlier"}]
)
def test_recipe_fast_keeps_the_inputs_of_pretrained_or_continued_weights(start):
    assert options(recipe="fast", **start).normalize == "none"


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"schedule": "step"}, "--schedule 'step' is not one of"),
        ({"init": "he"}, "--init 'he' is not one of"),
        ({"recipe": "quick"}, "--recipe 'quick' is not one of"),
        ({"warmup_epochs": -1.0}, "--warmup-epochs"),
        ({"warmup_epochs": 31.0}, "--warmup-epochs"),
        ({"weight_decay": -0.1}, "--weight-decay"),
        ({"weight_decay": float("nan")}, "--weight-decay"),
        ({"label_smoothing": 1.0}, "--label-smoothing"),
        ({"target_accuracy": 82.0}, "--target-accuracy"),
    ],
)
def test_bad_values_are_config_errors(bad, message):
    with pytest.raises(ConfigError, match=message):
        options(**bad)


def test_cli_bad_schedule_is_one_red_line(tmp_path, capsys):
    code = main(["train", str(tmp_path), "--schedule", "linear", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and "--schedule 'linear' is not one of: constant, cosine, onecycle" in err
    assert "Traceback" not in err


def test_train_help_names_every_registered_choice(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in [*OPTIMIZERS, *SCHEDULES, *INITS, *RECIPES, *NORMALIZATIONS]:
        assert name in text, name


@pytest.mark.usefixtures("models_contract")
def test_cli_run_with_the_new_options_records_them_and_stops_on_target(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", str(image_folder), "--out", str(out), "--model", "mnist_cnn", "--image-size", "32"]
    args += ["--batch-size", "4", "--epochs", "4", "--no-progress", "--optimizer", "adamw", "--init", "keras"]
    args += ["--schedule", "onecycle", "--label-smoothing", "0.1", "--target-accuracy", "0.01"]
    assert main(args) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["train"]["schedule"] == "onecycle" and saved["train"]["init"] == "keras"
    history = json.loads((out / "history.json").read_text())
    assert len(history) == 1 and 0 < history[0]["lr"] < 1e-4  # stopped after epoch 1, on the rising phase
    captured = capsys.readouterr()
    assert "reached the target 0.01; stopping" in captured.out + captured.err


@pytest.mark.parametrize("option", [{"schedule": "cosine"}, {"warmup_epochs": 1.0}, {"target_accuracy": 0.9}])
def test_one_phase_options_refuse_a_two_phase_finetune(tmp_path, option):
    common = {"data": str(tmp_path), "mode": "finetune", "base": "efficientnet_lite0", **option}
    with pytest.raises(ConfigError, match="--head-epochs 0"):
        TrainConfig(**common)
    assert TrainConfig(**common, head_epochs=0).head_epochs == 0
