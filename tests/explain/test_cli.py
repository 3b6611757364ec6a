"""The explain / activations / filters commands end to end, on a tiny model stand-in and tiny images."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlens.cli import main
from convlens.explain.run import ExplainConfig, explain_images
from convlens.models.loaded import LoadedModel
from convlens.service import sources

from .conftest import make_tiny


def _loaded() -> LoadedModel:
    model = make_tiny(num_classes=3)
    cfg = {"input_size": (3, 16, 16), "mean": [0.5] * 3, "std": [0.5] * 3, "interpolation": "bilinear"}
    return LoadedModel(model, cfg, ["cat", "dog", "fox"])


@pytest.fixture
def stand_in(monkeypatch):
    loaded = _loaded()
    monkeypatch.setattr(sources, "load_model", lambda *args, **kwargs: loaded)
    return loaded


def _photos(folder: Path, count: int, size: tuple[int, int] = (40, 30)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"img{i:04d}.png"
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def _explain(source: Path, out: Path, methods: str, *extra: str) -> int:
    args = ["explain", str(source), "--model", "x", "--method", methods, "--out", str(out), "--no-progress"]
    return main([*args, *extra])


def test_explain_writes_maps_overlays_and_figures(tmp_path, stand_in, capsys):
    photos = _photos(tmp_path / "in", 2)
    before = [p.read_bytes() for p in photos]
    out = tmp_path / "out"
    code = _explain(tmp_path / "in", out, "gradcam,scorecam-fast", "--class", "dog")
    assert code == 0
    for stem in ("img0000", "img0001"):
        for method in ("gradcam", "scorecam-fast"):
            heat = np.load(out / stem / f"{method}.npy")
            assert heat.shape == (16, 16) and heat.min() >= 0 and heat.max() in (0.0, 1.0)
            assert Image.open(out / stem / f"{method}_overlay.jpg").size == (40, 30)  # the photo's own size
            assert (out / stem / f"{method}_panels.png").stat().st_size > 0
    assert "class 1 (dog)" in capsys.readouterr().out
    assert [p.read_bytes() for p in photos] == before  # user files untouched


def test_unknown_method_lists_the_registry(tmp_path, stand_in, capsys):
    _photos(tmp_path / "in", 1)
    assert (
        main(["explain", str(tmp_path / "in"), "--model", "x", "--method", "nope", "--out", str(tmp_path)])
        == 1
    )
    assert "gradcam++" in capsys.readouterr().err


def test_evaluate_writes_summary_leaderboard_and_pointing_game(tmp_path, stand_in):
    _photos(tmp_path / "in", 2)
    boxes = tmp_path / "boxes.csv"
    boxes.write_text("image,x0,y0,x1,y1\nimg0000.png,0,0,40,30\nimg0001.png,0,0,1,1\n")
    out = tmp_path / "out"
    code = _explain(
        tmp_path / "in", out, "gradcam,eigencam", "--evaluate", "--boxes", str(boxes), "--no-figures"
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["images"]) == 4 and {e["method"] for e in summary["leaderboard"]} == {
        "gradcam",
        "eigencam",
    }
    first = [r for r in summary["images"] if r["image"].endswith("img0000.png")]
    assert all(r["pointing_game"] == 1.0 for r in first)  # the box covers the whole photo
    for row in summary["images"]:
        assert (
            0 <= row["deletion_auc"] <= 1 and 0 <= row["insertion_auc"] <= 1 and 0 <= row["average_drop"] <= 1
        )
    assert (out / "leaderboard.png").stat().st_size > 0


def test_activations_and_filters_commands(tmp_path, stand_in, capsys):
    photo = _photos(tmp_path / "in", 1)[0]
    assert main(["activations", str(photo), "--model", "x", "--out", str(tmp_path / "acts")]) == 0
    printed = capsys.readouterr().out
    assert "features.0" in printed and "(1, 8, 16, 16)" in printed
    assert (tmp_path / "acts" / "features_3_grid.png").exists() and (
        tmp_path / "acts" / "features_0_channel0.png"
    ).exists()
    assert (
        main(
            [
                "filters",
                "--model",
                "x",
                "--count",
                "8",
                "--size",
                "16",
                "--steps",
                "3",
                "--out",
                str(tmp_path / "filters"),
            ]
        )
        == 0
    )
    assert "layer features.2" in capsys.readouterr().out
    grid = Image.open(tmp_path / "filters" / "features_2_seed_filters.png")
    assert grid.size == (8 * 16 + 7 * 5, 16)


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        line = next(line for line in fh if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def test_streaming_a_folder_keeps_memory_flat(tmp_path):
    """Resident memory after 40 images and after 200 differ by less than 15 MiB (no per-image growth)."""
    _photos(tmp_path / "in", 200, size=(24, 24))
    config = ExplainConfig(tmp_path / "in", tmp_path / "out", ["gradcam"], figures=False, progress=False)
    rss = {}
    for i, _record in enumerate(explain_images(_loaded(), config), start=1):
        if i in (40, 200):
            rss[i] = _rss_mib()
    assert rss[200] - rss[40] < 15, rss
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_checkpoint_of_the_book_small_convnet_binary_both_classes(tmp_path, capsys):
    """A real registry model through --checkpoint: one sigmoid logit, both classes explained."""
    models = pytest.importorskip("convlens.models")
    model = models.create("small_convnet", input_size=(3, 64, 64))
    models.save_checkpoint(
        model,
        tmp_path / "run",
        {"model": "small_convnet", "num_classes": 1, "input_size": [3, 64, 64], "classes": ["cat", "dog"]},
    )
    photo = _photos(tmp_path / "in", 1, size=(80, 60))[0]
    for cls in ("cat", "dog"):
        code = main(
            [
                "explain",
                str(photo),
                "--checkpoint",
                str(tmp_path / "run"),
                "--method",
                "gradcam",
                "--class",
                cls,
                "--no-figures",
                "--out",
                str(tmp_path / cls),
                "--no-progress",
            ]
        )
        assert code == 0
        assert f"({cls})" in capsys.readouterr().out
    cat, dog = (np.load(tmp_path / c / "img0000" / "gradcam.npy") for c in ("cat", "dog"))
    assert cat.shape == (64, 64) and not np.allclose(cat, dog)
    assert (
        main(["activations", str(photo), "--checkpoint", str(tmp_path / "run"), "--out", str(tmp_path / "a")])
        == 0
    )
    assert "(1, 32, 62, 62)" in capsys.readouterr().out  # the book's 148x148x32 at 150 px; 62x62 at 64 px
