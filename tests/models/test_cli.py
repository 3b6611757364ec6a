"""CLI smoke tests: models list, summary, predict with one of our checkpoints."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from convlens import models
from convlens.cli import main


def test_models_list(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "small_convnet" in out and "efficientnet_lite0" in out


def test_summary_small_convnet(capsys):
    assert main(["summary", "small_convnet", "--input-size", "150"]) == 0
    out = capsys.readouterr().out
    for text in ("(None, 148, 148, 32)", "(None, 7, 7, 128)", "(None, 6272)", "3,453,121"):
        assert text in out


def test_summary_vgg16_no_top_and_mnist(capsys):
    assert main(["summary", "vgg16", "--input-size", "150", "--no-top"]) == 0
    assert "14,714,688" in capsys.readouterr().out
    assert main(["summary", "mnist_cnn"]) == 0
    assert "50,186" in capsys.readouterr().out


def test_predict_with_checkpoint(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((40, 30, 3), 60 * i, np.uint8)).save(folder / f"{i}.png")
    models.save_checkpoint(
        models.create("small_convnet", input_size=64), tmp_path / "run", {"classes": ["cat", "dog"]}
    )
    assert (
        main(
            [
                "predict",
                str(folder),
                "--checkpoint",
                str(tmp_path / "run"),
                "--topk",
                "2",
                "--json",
                "--batch-size",
                "2",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in result] == [str(folder / f"{i}.png") for i in range(3)]
    assert {t["wnid"] for t in result[0]["top"]} == {"cat", "dog"}
    assert abs(sum(t["prob"] for t in result[0]["top"]) - 1) < 1e-5
