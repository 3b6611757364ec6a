"""A run folder is owned by one writer, never loses a user's file, and always resumes after a kill."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from convlens.errors import CheckpointError, RunError, TrainingError
from convlens.runs import RunDir, load_run
from convlens.train import TrainConfig, train

from .conftest import make_image_folder

HERE = Path(__file__).resolve().parent


def config(data, out, **kw):
    options = {
        "model": "mnist_cnn",
        "data": str(data),
        "out": str(out),
        "image_size": 32,
        "batch_size": 4,
        "epochs": 1,
        "lr": 1e-3,
        "progress": False,
    }
    return TrainConfig(**{**options, **kw})


@pytest.fixture
def data(tmp_path):
    return make_image_folder(tmp_path / "data")


def test_a_folder_that_is_not_a_run_is_refused_untouched(data, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "history.csv").write_text("my own numbers\n")
    (out / "thesis.tex").write_text("\\documentclass{article}")
    with pytest.raises(RunError, match="not a convlens run"):
        train(config(data, out))
    assert (out / "thesis.tex").read_text() == "\\documentclass{article}"
    assert (out / "history.csv").read_text() == "my own numbers\n"


def test_overwrite_removes_the_runs_own_files_only(data, tmp_path):
    from convlens.train.evaluate import evaluate_run

    out = tmp_path / "run"
    train(config(data, out))
    evaluate_run(out, progress=False)
    assert (out / "metrics.json").is_file() and (out / "confusion_test.png").is_file()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(RunError, match="not a convlens run"):  # a foreign file: refuse, even with --overwrite
        train(config(data, out, overwrite=True))
    (out / "notes.txt").unlink()
    train(config(data, out, overwrite=True, epochs=2))
    names = {p.name for p in out.iterdir()}
    assert (
        "metrics.json" not in names
        and "confusion_test.png" not in names
        and "top_losses_test.png" not in names
    )
    assert json.loads((out / "config.json").read_text())["epoch"] == 2


def test_a_second_writer_gets_a_clear_error(data, tmp_path):
    out = tmp_path / "run"
    with RunDir(out).lock(), pytest.raises(RunError, match="another convlens process is writing"):
        train(config(data, out))
    train(config(data, out))  # the lock is released


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


@pytest.mark.parametrize("point", ["step-weights", "manifest", "top-weights"])
def test_a_kill_during_the_checkpoint_write_resumes_to_identical_weights(data, tmp_path, point):
    straight = train(
        config(data, tmp_path / "straight", epochs=3, augment="book", dropout=0.3, model="mnist_tf")
    )
    out = tmp_path / "killed"
    done = subprocess.run(
        [sys.executable, str(HERE / "_kill_worker.py"), str(data), str(out), "3", point],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 137, done.stderr[-2000:]
    assert json.loads((out / "train_state.json").read_text())["epoch"] == 1
    resumed = train(config(data, out, epochs=3, augment="book", dropout=0.3, model="mnist_tf", resume=True))
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]
    a, b = _weights(straight.out), _weights(out)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not list(out.rglob(".*.tmp-*")) and sorted(p.name for p in (out / "resume").iterdir()) == [
        "epoch-0003"
    ]


def test_paths_are_stored_resolved(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train(config(Path("data"), Path("run")))
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    assert saved["data"] == str(data.resolve()) and saved["out"] == str((tmp_path / "run").resolve())
    train(config(Path("data"), tmp_path / "run" / ".." / "run", epochs=2, resume=True))  # spelled differently
    monkeypatch.chdir(data)
    from convlens.train.evaluate import evaluate_run

    assert evaluate_run(tmp_path / "run", progress=False)["count"] == 8  # from another folder


@pytest.mark.parametrize(
    "damage",
    [
        "garbage",
        "[1, 2]",
        '{"model": 3}',
        '{"model": "mnist_cnn", "model_kwargs": {"bogus": 1}}',
        '{"model": "mnist_cnn", "input_size": [1, -5, 28]}',
        '{"model": "mnist_cnn", "mode": "sideways"}',
        '{"model": "mnist_cnn", "classes": "cat"}',
        '{"model": "mnist_cnn", "mode": "frozen", "train": {"x": 1}}',
    ],
)
def test_damaged_configs_are_typed_errors(data, tmp_path, damage):
    out = tmp_path / "run"
    train(config(data, out))
    (out / "config.json").write_text(damage)
    with pytest.raises(CheckpointError):
        load_run(out)


def test_damaged_resume_state_and_pickles_are_typed_errors(data, tmp_path):
    import pickle

    out = tmp_path / "run"
    train(config(data, out))
    (out / "train_state.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="damaged"):
        train(config(data, out, epochs=2, resume=True))
    (out / "model.safetensors").write_bytes(pickle.dumps({"weight": [1, 2]}))
    with pytest.raises(CheckpointError, match="never unpickles"):
        load_run(out)
    with pytest.raises(CheckpointError, match="never unpickles"):
        train(config(data, tmp_path / "next", init_from=str(out)))


def test_an_option_the_model_does_not_take_is_a_clear_error(data, tmp_path):
    from convlens.errors import ConfigError

    with pytest.raises(ConfigError, match="mnist_cnn does not take"):
        train(config(data, tmp_path / "run", dropout=0.5))


def test_resume_of_a_different_model_is_refused(data, tmp_path):
    out = tmp_path / "run"
    train(config(data, out))
    with pytest.raises(TrainingError, match="holds a run of model"):
        train(config(data, out, model="mnist_tf", overwrite=True))
