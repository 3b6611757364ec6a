"""The bad-input corpus through every command that reads images, runs or checkpoints: each kind gives a typed
error (one line, exit 1) or a reported skip; never a traceback; the user's files are never changed."""

from __future__ import annotations

import json
import shutil

import pytest

from convlens.cli import main

from .._corpus import build_corpus, tree_digest
from ..train.conftest import make_image_folder


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny trained run (classes cat/dog), the corpus, and the corpus' digest."""
    from convlens import service
    from convlens.train import TrainConfig

    tmp = tmp_path_factory.mktemp("everywhere")
    data = make_image_folder(tmp / "data")
    run = service.train(
        TrainConfig(data=str(data), model="mnist_cnn", out=str(tmp / "run"), image_size=32, epochs=1)
    )
    service.evaluate(service.EvaluateOptions(run.out, "test", progress=False))
    corpus = build_corpus(tmp)
    return {"run": run.out, "corpus": corpus, "digest": tree_digest(corpus.root), "tmp": tmp}


@pytest.fixture
def cli(capsys):
    def call(*args) -> tuple[int, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert "Traceback" not in text, text
        assert code in (0, 1), f"{args}: exit {code}\n{text}"
        call.stdout = captured.out
        return code, text

    return call


@pytest.fixture(autouse=True)
def _corpus_unchanged(world):
    yield
    assert tree_digest(world["corpus"].root) == world["digest"], "a command modified the user's files"


def test_predict_and_explain_a_folder_of_every_file_kind(world, cli, tmp_path):
    corpus, run = world["corpus"], world["run"]
    code, _ = cli("predict", corpus.files_root, "--checkpoint", run, "--json")
    assert code == 0
    shown = {item["image"] for item in json.loads(cli.stdout)}
    assert {str(p) for p in corpus.good} <= shown
    for case in corpus.file_cases():
        if case.load == "skipped":
            assert str(case.path) not in shown, case.kind
    code, text = cli(
        "explain",
        corpus.files_root,
        "--checkpoint",
        run,
        "--no-figures",
        "--out",
        tmp_path / "cams",
        "--no-progress",
    )
    assert code == 0 and "maps written" in text


def test_every_file_kind_alone_through_predict_explain_and_activations(world, cli, tmp_path):
    run = world["run"]
    for i, case in enumerate(world["corpus"].file_cases()):
        expected = 0 if case.alone == "usable" else 1
        for command in (
            ("predict", case.path, "--checkpoint", run),
            (
                "explain",
                case.path,
                "--checkpoint",
                run,
                "--no-figures",
                "--out",
                tmp_path / f"e{i}",
                "--no-progress",
            ),
            ("activations", case.path, "--checkpoint", run, "--out", tmp_path / f"a{i}"),
        ):
            code, text = cli(*command)
            assert code in (expected, 0 if command[0] != "activations" else expected), (
                f"{case.kind} {command[0]}: {text}"
            )
            if expected == 1 and command[0] == "activations":
                assert "error:" in text


def test_every_folder_kind_through_train_and_evaluate(world, cli, tmp_path):
    run = world["run"]
    for i, case in enumerate(world["corpus"].folder_cases()):
        code, text = cli(
            "train",
            case.path,
            "--model",
            "mnist_cnn",
            "--image-size",
            "32",
            "--epochs",
            "1",
            "--out",
            tmp_path / f"t{i}",
            "--no-progress",
        )
        if case.load == "usable":  # loads; training may still refuse it (one class, an empty split)
            assert code == 0 or "error:" in text, f"{case.kind}: {text}"
        else:
            assert code == 1 and "error:" in text, f"{case.kind}: {text}"
        code, text = cli("evaluate", run, "--data", case.path, "--no-progress")
        assert code in (0, 1), case.kind


def test_the_corpus_folder_evaluates_with_a_class_map(world, cli):
    code, text = cli(
        "evaluate",
        world["run"],
        "--data",
        world["corpus"].files_root,
        "--class-map",
        "a=cat,b=dog",
        "--no-progress",
    )
    assert code == 0 and "accuracy" in text
    code, text = cli("evaluate", world["run"], "--data", world["corpus"].files_root, "--no-progress")
    assert code == 1 and "--class-map" in text and "cat" in text


DAMAGE = {
    "garbage config": ("config.json", b"\x00\xffnot json"),
    "nested config": ("config.json", b'{"model": {"model": "mnist_cnn"}}'),
    "wrong types": ("config.json", b'{"model": "mnist_cnn", "num_classes": "two"}'),
    "bad model_kwargs": ("config.json", b'{"model": "mnist_cnn", "model_kwargs": {"bogus": true}}'),
    "unknown model": ("config.json", b'{"model": "no_such_net"}'),
    "pickle as weights": ("model.safetensors", b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94."),
    "empty weights": ("model.safetensors", b""),
    "garbage train state": ("train_state.json", b"[1, 2, 3"),
    "no config": ("config.json", None),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_runs_are_one_line_errors_everywhere(world, cli, tmp_path, kind):
    name, content = DAMAGE[kind]
    run = tmp_path / "run"
    shutil.copytree(world["run"], run)
    (run / name).unlink()
    if content is not None:
        (run / name).write_bytes(content)
    good = world["corpus"].good[0]
    commands = [
        ("predict", good, "--checkpoint", run),
        ("explain", good, "--checkpoint", run, "--out", tmp_path / "e", "--no-progress"),
        ("activations", good, "--checkpoint", run, "--out", tmp_path / "a"),
        (
            "filters",
            "--checkpoint",
            run,
            "--count",
            "2",
            "--steps",
            "1",
            "--size",
            "16",
            "--out",
            tmp_path / "f",
        ),
        ("evaluate", run, "--no-progress"),
        (
            "train",
            world["tmp"] / "data",
            "--model",
            "mnist_cnn",
            "--image-size",
            "32",
            "--epochs",
            "2",
            "--out",
            run,
            "--resume",
            "--no-progress",
        ),
        (
            "train",
            world["tmp"] / "data",
            "--model",
            "mnist_cnn",
            "--image-size",
            "32",
            "--epochs",
            "1",
            "--out",
            tmp_path / "next",
            "--init-from",
            run,
            "--no-progress",
        ),
    ]
    failures = 0
    for command in commands:
        code, text = cli(*command)
        failures += code == 1
        if code == 1:
            assert text.count("\n") <= 3 and "error:" in text, text
    assert failures >= (1 if kind == "garbage train state" else 5), kind


def test_garbage_boxes_and_bad_options_are_one_line_errors(world, cli, tmp_path):
    good, run = world["corpus"].good[0], world["run"]
    boxes = tmp_path / "boxes.json"
    for content in ("{not json", '{"a.jpg": "x"}', '{"a.jpg": [[1, 2]]}', "[1, 2]"):
        boxes.write_text(content)
        code, text = cli(
            "explain",
            good,
            "--checkpoint",
            run,
            "--evaluate",
            "--boxes",
            boxes,
            "--out",
            tmp_path / "b",
            "--no-progress",
        )
        assert code == 1 and "boxes" in text, content
    bad_options = [
        ("train", world["tmp"] / "data", "--lr", "nan", "--out", tmp_path / "x"),
        ("train", world["tmp"] / "data", "--image-size", "32", "--out", tmp_path / "y"),
        ("train", world["tmp"] / "data", "--out", good),
        ("explain", good, "--checkpoint", run, "--class", "zebra", "--out", tmp_path / "z"),
        ("explain", good, "--checkpoint", run, "--layer", "nope", "--out", tmp_path / "z"),
        ("explain", good, "--checkpoint", run, "--method", "nope", "--out", tmp_path / "z"),
        ("predict", good, "--model", "small_convnett"),
        ("filters", "--checkpoint", run, "--count", "99999", "--out", tmp_path / "f"),
        ("evaluate", run, "--split", "everything"),
        ("report", tmp_path / "missing"),
    ]
    for command in bad_options:
        code, text = cli(*command)
        assert code == 1 and "error:" in text, f"{command}: {text}"
