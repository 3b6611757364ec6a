"""The service layer: one door for every front end — silent by default, safe to call from threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlens import service
from convlens._reporting import CollectingReporter
from convlens.models.loaded import LoadedModel
from convlens.train import TrainConfig

from ..explain.conftest import make_tiny
from ..train.conftest import make_image_folder


def _photos(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (30 + i, 40, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_a_quiet_chain_prints_nothing(tmp_path, capfd):
    data = make_image_folder(tmp_path / "data")
    run = service.train(
        TrainConfig(
            data=str(data),
            model="mnist_cnn",
            out=str(tmp_path / "run"),
            image_size=32,
            batch_size=4,
            epochs=2,
        )
    )
    evaluated = service.evaluate(service.EvaluateOptions(run.out, "test"))
    explained = service.explain(
        service.ExplainOptions(
            data / "test", tmp_path / "cams", checkpoint=run.out, methods=["gradcam", "layercam"]
        )
    )
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    assert len(run.history) == 2 and evaluated.metrics["count"] == 8 and len(explained.records) == 16
    assert all(path.is_file() for path in evaluated.files)


def test_a_collecting_reporter_gets_the_messages(tmp_path):
    data = make_image_folder(tmp_path / "data")
    reporter = CollectingReporter()
    service.train(
        TrainConfig(data=str(data), model="mnist_cnn", out=str(tmp_path / "r"), image_size=32, epochs=1),
        reporter=reporter,
    )
    texts = [text for _, text in reporter.messages]
    assert any(text.startswith("device cpu") and "threads" in text for text in texts)
    assert any(text.startswith("epoch 1/1") and "ms/step" in text for text in texts)


def test_four_explanations_in_threads_match_sequential(tmp_path):
    photos = _photos(tmp_path / "in", 3)
    cfg = {"input_size": (3, 16, 16), "mean": [0.5] * 3, "std": [0.5] * 3, "interpolation": "bilinear"}
    loaded = LoadedModel(make_tiny(num_classes=3), cfg, ["cat", "dog", "fox"])
    methods = ["gradcam", "gradcam++", "scorecam-fast", "layercam"]

    def run(out: Path, method: str) -> None:
        service.explain(service.ExplainOptions(photos, out, methods=[method], figures=True), loaded=loaded)

    for method in methods:
        run(tmp_path / "seq" / method, method)
    threads = [threading.Thread(target=run, args=(tmp_path / "par" / m, m)) for m in methods]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for method in methods:
        for i in range(3):
            seq = np.load(tmp_path / "seq" / method / f"p{i}" / f"{method}.npy")
            par = np.load(tmp_path / "par" / method / f"p{i}" / f"{method}.npy")
            assert np.array_equal(seq, par), (method, i)
            assert (tmp_path / "par" / method / f"p{i}" / f"{method}_panels.png").stat().st_size > 0
    assert sum(len(m._forward_hooks) for m in loaded.model.modules()) == 0  # every hook removed


def test_predict_lists_unusable_files_and_predicts_the_rest(tmp_path):
    folder = _photos(tmp_path / "in", 2)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (folder / "Thumbs.db").write_bytes(b"\0" * 10)
    cfg = {"input_size": (3, 16, 16), "mean": None, "std": None, "num_classes": 3}
    loaded = LoadedModel(make_tiny(num_classes=3), cfg, ["cat", "dog", "fox"])
    result = service.predict(service.PredictOptions([folder], topk=2), loaded=loaded)
    assert [Path(r["image"]).name for r in result.records] == ["p0.png", "p1.png"]
    assert sorted(Path(s.path).name for s in result.skipped) == ["Thumbs.db", "broken.jpg"]


@pytest.mark.parametrize("text", ["nan,0.1,0.1", "0.8,inf,0.1", "a,b,c", "0.5"])
def test_bad_fractions_are_a_clear_error(text):
    from convlens.errors import ConfigError

    with pytest.raises(ConfigError, match="three numbers"):
        service.parse_fractions(text)
