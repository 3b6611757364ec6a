"""train(config) end to end on tiny image folders: files written, resume, evaluate, bad input."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from convlens.errors import CheckpointError, ConfigError, DataError, TrainingError
from convlens.train import train
from convlens.train.evaluate import evaluate_run

from .conftest import make_image_folder, tiny_config

pytestmark = pytest.mark.usefixtures("models_contract")


def test_train_writes_run_and_evaluate_reads_it(image_folder, tmp_path):
    run = train(tiny_config(image_folder, tmp_path / "run", epochs=2))
    assert len(run.history) == 2 and run.label_mode == "binary"
    names = {p.name for p in run.out.iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "history.csv",
        "history.json",
        "curves.png",
        "curves_smoothed.png",
    } <= names
    assert (run.out / "best" / "model.safetensors").is_file()
    metrics = evaluate_run(run.out, split="test", progress=False)
    saved = json.loads((run.out / "metrics.json").read_text())
    assert saved["count"] == 8 and 0 <= saved["accuracy"] <= 1 and saved["accuracy"] == metrics["accuracy"]
    assert set(saved["per_class"]) == {"cat", "dog"} and sum(map(sum, saved["confusion_matrix"])) == 8
    assert (run.out / saved["confusion_matrix_png"]).is_file() and (
        run.out / saved["top_losses_png"]
    ).is_file()


def test_resume_with_more_epochs_matches_a_straight_run(image_folder, tmp_path):
    straight = train(
        tiny_config(image_folder, tmp_path / "a", epochs=2, augment="book", dropout=0.3, model="mnist_tf")
    )
    train(tiny_config(image_folder, tmp_path / "b", epochs=1, augment="book", dropout=0.3, model="mnist_tf"))
    resumed = train(
        tiny_config(
            image_folder, tmp_path / "b", epochs=2, augment="book", dropout=0.3, model="mnist_tf", resume=True
        )
    )
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]
    a, b = (load_file(str(tmp_path / name / "model.safetensors")) for name in ("a", "b"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_with_different_options_is_refused(image_folder, tmp_path):
    train(tiny_config(image_folder, tmp_path / "run"))
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    with pytest.raises(TrainingError, match="--lr was 0.001, now 0.01"):
        train(tiny_config(image_folder, tmp_path / "run", epochs=2, lr=1e-2, resume=True))
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


def test_out_holding_another_models_run_is_refused(image_folder, tmp_path):
    train(tiny_config(image_folder, tmp_path / "run"))
    with pytest.raises(TrainingError, match="holds a run of model 'mnist_cnn'"):
        train(
            tiny_config(
                image_folder,
                tmp_path / "run",
                base="efficientnet_lite0",
                mode="frozen",
                pretrained=False,
                overwrite=True,
            )
        )
    with pytest.raises(TrainingError, match="--resume to continue it, --overwrite"):
        train(tiny_config(image_folder, tmp_path / "run"))


def test_one_class_is_refused(tmp_path):
    data = make_image_folder(tmp_path / "one", classes=("cat",))
    with pytest.raises((DataError, ConfigError), match="class"):
        train(tiny_config(data, tmp_path / "run"))


def test_mismatched_classes_between_splits_are_refused(tmp_path):
    data = make_image_folder(tmp_path / "d", splits=("train", "test"))
    make_image_folder(tmp_path / "d", classes=("cat", "cow"), splits=("validation",))
    with pytest.raises(DataError, match="cow|dog"):
        train(tiny_config(data, tmp_path / "run"))


def test_resume_without_a_run_is_refused(image_folder, tmp_path):
    with pytest.raises(TrainingError, match="holds no unfinished run"):
        train(tiny_config(image_folder, tmp_path / "nothing", resume=True))


def test_torn_run_folder_is_detected_on_resume(image_folder, tmp_path):
    train(tiny_config(image_folder, tmp_path / "run"))
    state = tmp_path / "run" / "resume" / "epoch-0001" / "model.safetensors"  # what --resume reads
    shutil.copy(tmp_path / "run" / "history.json", state)
    with pytest.raises(CheckpointError, match="does not match"):
        train(tiny_config(image_folder, tmp_path / "run", epochs=2, resume=True))


def test_features_mode_caches_and_reuses_features(image_folder, tmp_path):
    from convlens.train.features import cache_root

    kw = {"base": "efficientnet_lite0", "mode": "features", "pretrained": False, "epochs": 2}
    first = train(tiny_config(image_folder, tmp_path / "f1", **kw))
    cached = sorted(cache_root().glob("*.safetensors"))
    assert len(cached) == 2  # train and validation: training reads no test features
    stamps = [p.stat().st_mtime_ns for p in cached]
    second = train(tiny_config(image_folder, tmp_path / "f2", **kw))
    assert [p.stat().st_mtime_ns for p in sorted(cache_root().glob("*.safetensors"))] == stamps
    assert first.history == second.history
    metrics = evaluate_run(second.out, progress=False)
    assert metrics["count"] == 8


def test_frozen_then_finetune_from_its_checkpoint(image_folder, tmp_path, capsys):
    kw = {"base": "efficientnet_lite0", "pretrained": False}
    frozen = train(tiny_config(image_folder, tmp_path / "frozen", mode="frozen", **kw))
    tune = train(
        tiny_config(
            image_folder,
            tmp_path / "tune",
            mode="finetune",
            unfreeze_from=frozen.model.layer_names()[-2],
            init_from=str(frozen.out),
            lr=1e-5,
            **kw,
        )
    )
    assert len(tune.history) == 1


def test_unusable_images_are_skipped_reported_and_left_alone(tmp_path):
    from convlens._reporting import CollectingReporter

    data = make_image_folder(tmp_path / "d")
    good = data / "train" / "cat" / "cat.0.png"
    truncated = data / "train" / "cat" / "cat.9.png"
    truncated.write_bytes(good.read_bytes()[:60])
    not_an_image = data / "train" / "dog" / "dog.9.png"
    not_an_image.write_text("this is not a picture")
    before = {p: p.read_bytes() for p in (truncated, not_an_image)}

    reporter = CollectingReporter()
    run = train(tiny_config(data, tmp_path / "run"), reporter=reporter)

    assert len(run.history) == 1
    err = "\n".join(text for level, text in reporter.messages if level == "warning")
    assert "skipped 2 file(s)" in err
    assert "cat.9.png" in err and "dog.9.png" in err
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["skipped"]
    assert sorted(item["path"] for item in recorded) == sorted(map(str, before))
    assert all(item["reason"] for item in recorded)
    assert {p: p.read_bytes() for p in before} == before
