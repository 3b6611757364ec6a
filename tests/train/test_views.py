"""Test-time views (``convlens evaluate/predict --tta``): the averaged probabilities, back to logits, end to end."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image, ImageOps
from torch import nn

from convlens import labels
from convlens.cli import main
from convlens.errors import ConfigError
from convlens.models.views import VIEWS, view_logits

from .conftest import TINY_CLI


class LeftMinusRight(nn.Module):
    """A head whose logits change sign in a mirror: the left half's mean minus the right half's, per channel."""

    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.outputs = outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        diff = x[..., :half].mean(dim=(2, 3)) - x[..., -half:].mean(dim=(2, 3))
        return diff[:, : self.outputs] * 4


@pytest.mark.parametrize("outputs", [1, 3])
def test_logits_of_gives_the_probabilities_back(outputs):
    logits = torch.randn(6, outputs) * 3
    probs = labels.probabilities(logits)
    assert torch.allclose(labels.probabilities(labels.logits_of(probs, outputs)), probs, atol=1e-6)
    assert labels.logits_of(probs, outputs).shape == (6, outputs)


def test_no_views_is_the_model_itself():
    x = torch.randn(4, 3, 8, 8)
    model = LeftMinusRight(3)
    assert torch.equal(view_logits(model, x, "none"), model(x))


@pytest.mark.parametrize("outputs", [1, 3])
def test_flip_averages_the_probabilities_of_the_photo_and_its_mirror(outputs):
    x = torch.randn(5, 3, 8, 8)
    model = LeftMinusRight(outputs)
    expected = (labels.probabilities(model(x)) + labels.probabilities(model(x.flip(-1)))) / 2
    got = labels.probabilities(view_logits(model, x, "flip"))
    assert torch.allclose(got, expected, atol=1e-6)
    assert not torch.allclose(got, labels.probabilities(model(x)), atol=1e-3)  # the mirror did count


def test_flip_of_a_mirror_antisymmetric_binary_model_is_undecided():
    # z(mirror x) = -z(x): the averaged probability is exactly 1/2, whatever the photo
    logits = view_logits(LeftMinusRight(1), torch.randn(7, 3, 8, 8), "flip")
    assert torch.allclose(logits, torch.zeros(7, 1), atol=1e-5)


def test_unknown_views_are_a_config_error():
    with pytest.raises(ConfigError, match="--tta 'rotate' is not one of: none, flip"):
        view_logits(LeftMinusRight(1), torch.randn(1, 3, 8, 8), "rotate")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_help_names_every_view(command, capsys):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert all(name in text for name in VIEWS)


def _mirrored_copy(split_folder, into):
    for image in split_folder.rglob("*.png"):
        target = into / image.relative_to(split_folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        ImageOps.mirror(Image.open(image)).save(target)
    return into


def _records(run):
    return json.loads((run / "predictions_test.json").read_text())["records"]


@pytest.mark.usefixtures("models_contract")
def test_cli_flip_is_the_mean_of_the_photos_and_their_mirrors(image_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(image_folder), "--out", str(run), *TINY_CLI]) == 0
    assert main(["evaluate", str(run), "--no-progress"]) == 0
    plain = _records(run)
    mirrored = _mirrored_copy(image_folder / "test", tmp_path / "mirrored")
    assert main(["evaluate", str(run), "--data", str(mirrored), "--no-progress"]) == 0
    mirror = {r["path"].replace(str(mirrored), str(image_folder / "test")): r for r in _records(run)}
    capsys.readouterr()
    assert main(["evaluate", str(run), "--tta", "flip", "--no-progress"]) == 0
    assert "averaged over --tta flip" in capsys.readouterr().out
    metrics = json.loads((run / "metrics_test.json").read_text())
    assert metrics["tta"] == "flip" and metrics["count"] == len(plain) == 8
    for before, after in zip(plain, _records(run), strict=True):
        expected = (before["prob_true"] + mirror[before["path"]]["prob_true"]) / 2
        assert after["prob_true"] == pytest.approx(expected, abs=2e-6), before["path"]
    assert any(abs(r["prob_true"] - mirror[r["path"]]["prob_true"]) > 1e-4 for r in plain)  # mirrors differ
    assert main(["report", str(run)]) == 0  # the report says how the split was scored
    assert "Scored with test-time views <code>flip</code>" in (run / "report.html").read_text()
    assert main(["evaluate", str(run), "--no-progress"]) == 0
    assert "test-time views" not in (run / "report.html").read_text()  # refreshed: the photos alone again


@pytest.mark.usefixtures("models_contract")
def test_cli_unknown_views_is_one_red_line(image_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(image_folder), "--out", str(run), *TINY_CLI]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--tta", "rotate", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "--tta 'rotate' is not one of: none, flip" in err and "Traceback" not in err


@pytest.mark.usefixtures("models_contract")
def test_predict_flip_is_the_mean_of_the_photo_and_its_mirror(image_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(image_folder), "--out", str(run), *TINY_CLI]) == 0
    photo = min((image_folder / "test" / "dog").glob("*.png"))
    mirror = tmp_path / "mirror.png"
    ImageOps.mirror(Image.open(photo)).save(mirror)

    def probs(*args: str) -> list[dict[str, float]]:
        capsys.readouterr()
        assert main(["predict", *args, "--checkpoint", str(run), "--json", "--topk", "2"]) == 0
        return [{t["label"]: t["prob"] for t in r["top"]} for r in json.loads(capsys.readouterr().out)]

    plain, mirrored = probs(str(photo), str(mirror))
    (flip,) = probs(str(photo), "--tta", "flip")
    assert abs(plain["dog"] - mirrored["dog"]) > 1e-4  # the mirror is another input
    assert all(flip[k] == pytest.approx((plain[k] + mirrored[k]) / 2, abs=1e-5) for k in plain)
