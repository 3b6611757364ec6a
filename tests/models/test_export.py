"""ONNX and TorchScript export: verified against PyTorch, dynamic batch, metadata, Lite0 on real photos."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from convlens import models
from convlens.cli import main
from convlens.data.builtin import PETS_MINI_DIR
from convlens.errors import ConfigError, ExportError, MissingExtra, UnknownName, WeightsNotFound
from convlens.models import imagenet
from convlens.models.efficientnet_lite import EfficientNetLite
from convlens.models.export import export_model, read_metadata
from convlens.models.preprocess import load_batch
from convlens.train import load_run

from ..train.conftest import make_image_folder

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")

FORMATS = ("onnx", "torchscript")
PHOTOS = sorted(PETS_MINI_DIR.glob("*.jpg"))[::40]  # cats and dogs


def run_file(path: Path, x: torch.Tensor) -> torch.Tensor:
    """Logits of an exported file, read back independently of convlens.models.export."""
    if path.suffix == ".onnx":
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
    with torch.inference_mode():
        return torch.jit.load(str(path))(x)


def assert_any_batch(path: Path, model: torch.nn.Module) -> None:
    """The file computes the model's logits for a batch of 1 and a batch of 3 real photos."""
    model = model.eval()
    x = load_batch(PHOTOS[:3], model.pretrained_cfg)
    with torch.inference_mode():
        expected = model(x)
    for batch in (x[:1], x):
        got = run_file(path, batch)
        assert got.shape == (len(batch), expected.shape[1])
        torch.testing.assert_close(got, expected[: len(batch)], rtol=0, atol=1e-4)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A scratch run (mnist_cnn) and a features run (Lite0 base + dense head), 1 epoch at 32 px."""
    import convlens

    root = tmp_path_factory.mktemp("export-runs")
    with pytest.MonkeyPatch.context() as mp:  # module scope: keep caches out of the home folder here too
        mp.setenv("TORCH_HOME", str(root / "torch-home"))
        mp.setenv("CONVLENS_CACHE", str(root / "cache"))
        data = make_image_folder(root / "data")
        options = {"data": str(data), "epochs": 1, "image_size": 32, "batch_size": 4, "progress": False}
        convlens.train(model="mnist_cnn", out=str(root / "scratch"), **options)
        convlens.train(base="efficientnet_lite0", mode="features", out=str(root / "features"), **options)
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_small_convnet_exports_with_a_dynamic_batch(fmt, tmp_path):
    model = models.create("small_convnet")
    result = export_model(model, fmt, tmp_path / f"small{'.onnx' if fmt == 'onnx' else '.pt'}")
    assert result.path.is_file() and result.format == fmt and result.input_size == (3, 150, 150)
    assert result.max_abs_diff <= 1e-4 and result.top1_agreement == 1.0 and result.verified_images == 8
    assert (result.opset is not None) == (fmt == "onnx") and model.training  # the caller's model is untouched
    assert_any_batch(result.path, model)
    meta = read_metadata(result.path)
    assert meta["model"] == "small_convnet" and meta["label_mode"] == "binary" and meta["classes"] is None
    assert meta["mean"] is None and meta["input_size"] == [3, 150, 150] and meta["pixel_scale"] == 1 / 255
    if fmt == "onnx":
        graph = onnx.load(str(result.path)).graph
        (inp,), (out,) = graph.input, graph.output
        assert (inp.name, out.name) == ("input", "logits") and result.exporter == "dynamo"
        assert inp.type.tensor_type.shape.dim[0].dim_param and out.type.tensor_type.shape.dim[0].dim_param
        assert [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]] == [3, 150, 150]


@pytest.mark.parametrize("fmt", FORMATS)
def test_trained_run_exports_into_its_folder(runs, fmt):
    run = runs / "scratch"
    result = export_model(run, fmt)
    assert result.path == run / ("model.onnx" if fmt == "onnx" else "model.pt") and result.path.is_file()
    assert result.max_abs_diff <= 1e-4 and result.top1_agreement == 1.0
    model, config = load_run(run)
    assert_any_batch(result.path, model)
    meta = read_metadata(result.path)
    assert meta["classes"] == ["cat", "dog"] and meta["label_mode"] == "binary" and meta["fast"] is False
    assert meta["model"] == config["model"] == "mnist_cnn" and meta["input_size"] == [3, 32, 32]


def test_features_run_exports_base_and_head(runs, tmp_path):
    """A features run stores only its head; the export holds the pretrained base too (legacy exporter: quick)."""
    result = export_model(runs / "features", "onnx", tmp_path / "features.onnx", exporter="legacy")
    assert result.exporter == "legacy" and result.max_abs_diff <= 1e-4 and result.top1_agreement == 1.0
    assert_any_batch(result.path, load_run(runs / "features")[0])
    meta = read_metadata(result.path)
    assert meta["model"] == "efficientnet_lite0" and meta["classes"] == ["cat", "dog"]
    assert meta["mean"] == [0.5] * 3 and meta["crop_mode"] == "crop_then_resize" and meta["crop_pct"] == 0.875


def tiny_lite(seed: int = 0) -> EfficientNetLite:
    """A one-block EfficientNet-Lite with random batch-norm statistics, so that folding changes weights."""
    torch.manual_seed(seed)
    model = EfficientNetLite(3, (3, 32, 32), stages=((1, 3, 1, 8, 1),))
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


def test_fast_onnx_has_batch_norm_folded(tmp_path):
    """torch.onnx folds batch norm in eval mode by itself: --fast gives the same graph, folded by convlens."""
    model = tiny_lite()
    result = export_model(model, "onnx", tmp_path / "fast.onnx", fast=True)
    ops = [n.op_type for n in onnx.load(str(result.path)).graph.node]
    assert "Conv" in ops and "BatchNormalization" not in ops
    assert result.max_abs_diff <= 1e-4 and read_metadata(result.path)["fast"] is True
    assert_any_batch(result.path, model)


def test_fast_torchscript_is_folded_and_channels_last(tmp_path):
    model = tiny_lite()
    result = export_model(model, "torchscript", tmp_path / "fast.pt", fast=True)
    loaded = torch.jit.load(str(result.path))
    assert "batch_norm" not in str(loaded.inlined_graph)
    assert loaded.stem.conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert result.max_abs_diff <= 1e-4
    assert_any_batch(result.path, model)


def test_auto_falls_back_to_the_legacy_exporter(tmp_path, monkeypatch, caplog):
    from convlens.models import _onnx

    def cannot_capture(*args):
        raise RuntimeError("torch.export cannot capture this model")

    monkeypatch.setattr(_onnx, "_dynamo", cannot_capture)
    model = models.create("mnist_cnn")
    result = export_model(model, "onnx", tmp_path / "auto.onnx")
    assert result.exporter == "legacy" and result.max_abs_diff <= 1e-4 and "cannot capture" in caplog.text
    assert_any_batch(result.path, model)
    with pytest.raises(ExportError, match="try --exporter legacy"):
        export_model(model, "onnx", tmp_path / "dynamo.onnx", exporter="dynamo")
    assert not (tmp_path / "dynamo.onnx").exists()


def test_a_file_that_disagrees_is_not_written(tmp_path):
    out = tmp_path / "m.pt"
    with pytest.raises(ExportError, match="was not written"):
        export_model(models.create("mnist_cnn"), "torchscript", out, tolerance=-1.0)
    assert list(tmp_path.iterdir()) == []


def test_bad_sources_and_options_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownName, match="neither a run folder nor a model name"):
        export_model("no_such_model", "onnx")
    with pytest.raises(WeightsNotFound, match="export the run folder"):
        export_model("small_convnet", "torchscript")
    with pytest.raises(ConfigError, match="onnx, torchscript"):
        export_model("efficientnet_lite0", "tflite")
    with pytest.raises(ConfigError, match="auto, dynamo, legacy"):
        export_model("efficientnet_lite0", "onnx", exporter="fastest")
    assert list(tmp_path.iterdir()) == []


def test_missing_export_extra_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    with pytest.raises(MissingExtra, match=r"missing: onnxruntime\): pip install 'convlens\[export\]'"):
        export_model(models.create("mnist_cnn"), "onnx", tmp_path / "m.onnx")
    assert main(["export", "efficientnet_lite0", "--format", "onnx", "--out", str(tmp_path / "x.onnx")]) == 1
    assert "pip install 'convlens[export]'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_exports_a_run_and_prints_the_figures(runs, tmp_path, capsys):
    out = tmp_path / "cli.pt"
    assert main(["export", str(runs / "scratch"), "--format", "torchscript", "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert (
        f"written: {out}" in printed
        and "max abs logit diff" in printed
        and "top-1 agreement 100.0%" in printed
    )
    assert out.is_file()


# --- EfficientNet-Lite0 with its ImageNet weights ------------------------------------------------------------


@pytest.fixture(scope="module")
def lite0_onnx(tmp_path_factory):
    """``export_model("efficientnet_lite0", "onnx")`` run in a temporary working folder (default out)."""
    folder = tmp_path_factory.mktemp("lite0")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        result = export_model("efficientnet_lite0", "onnx")
    assert result.path == folder / "efficientnet_lite0.onnx"
    return result, models.create("efficientnet_lite0", pretrained=True).eval()


def test_lite0_onnx_metadata_says_how_to_feed_it(lite0_onnx):
    result, _ = lite0_onnx
    meta = read_metadata(result.path)
    assert meta["classes"] == imagenet.wnids() and meta["class_labels"][386] == "African_elephant"
    assert meta["label_mode"] == "categorical" and meta["input_size"] == [3, 224, 224]
    assert meta["mean"] == meta["std"] == [0.5] * 3 and meta["interpolation"] == "bicubic"
    assert meta["crop_pct"] == 0.875 and meta["crop_mode"] == "crop_then_resize" and meta["color"] == "RGB"
    assert result.max_abs_diff <= 1e-4 and result.top1_agreement == 1.0


def top1_both(lite0_onnx, files: list[Path]) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Top-1 of onnxruntime and of PyTorch fp32 on ``files``, and the max abs logit difference."""
    result, model = lite0_onnx
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    onnx_top, torch_top, diff = [], [], 0.0
    for start in range(0, len(files), 32):
        x = load_batch(files[start : start + 32], model.pretrained_cfg)
        with torch.inference_mode():
            expected = model(x)
        got = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
        onnx_top.append(got.argmax(1))
        torch_top.append(expected.argmax(1))
        diff = max(diff, float((got - expected).abs().max()))
    return torch.cat(onnx_top), torch.cat(torch_top), diff


def sample(root: Path, every: int) -> tuple[list[Path], torch.Tensor]:
    files = sorted(root.glob("*.JPEG"))[::every]
    index = {w: i for i, w in enumerate(imagenet.wnids())}
    return files, torch.tensor([index[f.name.split("_")[0]] for f in files])


def test_lite0_onnx_agrees_with_pytorch_on_16_photos(lite0_onnx, shared_data):
    files, _ = sample(shared_data("imagenet-sample"), every=18)
    assert len(files) == 17
    onnx_top, torch_top, diff = top1_both(lite0_onnx, files)
    assert torch.equal(onnx_top, torch_top) and diff <= 1e-4


@pytest.mark.slow
def test_lite0_onnx_same_top1_as_pytorch_on_all_sample_photos(lite0_onnx, shared_data):
    files, targets = sample(shared_data("imagenet-sample"), every=1)
    assert len(files) == 294
    onnx_top, torch_top, diff = top1_both(lite0_onnx, files)
    assert torch.equal(onnx_top, torch_top) and diff <= 1e-4
    assert (onnx_top == targets).float().mean() > 0.85  # the weights' own 0.888 on these photos
