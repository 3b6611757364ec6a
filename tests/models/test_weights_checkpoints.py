"""Weights resolution (offline, hub cache, clear errors) and our safetensors checkpoints."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
import torchvision

from convlens import models
from convlens.errors import CheckpointError, WeightsNotFound
from convlens.models.weights import hub_dir


def test_missing_weights_name_the_file_and_folder():
    with pytest.raises(WeightsNotFound) as info:
        models.create("resnet18", pretrained=True)
    message = str(info.value)
    assert "resnet18-f37072fd.pth" in message and str(hub_dir()) in message


def test_hub_cache_weights_are_found(tmp_path):
    # conftest points TORCH_HOME at a temporary folder: put a (random) torchvision file where torch.hub keeps it.
    reference = torchvision.models.mobilenet_v3_small()
    hub_dir().mkdir(parents=True, exist_ok=True)
    url = torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1.url
    torch.save(reference.state_dict(), hub_dir() / url.rsplit("/", 1)[-1])
    model = models.create("mobilenet_v3_small", pretrained=True).eval()
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(model(x), reference.eval()(x))
    assert model.pretrained_cfg["labels"][386] == "n02504458"
    assert models.create("mobilenet_v3_small", pretrained=True, num_classes=2)(x).shape == (1, 2)


def test_vgg_weights_map_from_torchvision(tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(torchvision.models.vgg16().state_dict(), path)
    base = models.create("vgg16", weights=str(path), include_top=False, input_size=64)
    reference = torch.load(path, weights_only=True)
    torch.testing.assert_close(base.block5_conv3.weight, reference["features.28.weight"])


def test_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"weight": object()}))
    with pytest.raises(CheckpointError, match="unpickle"):
        models.create("mnist_cnn", weights=str(path))


def test_checkpoint_round_trip(tmp_path):
    model = models.create("small_convnet", input_size=64, dropout=0.5).eval()
    models.save_checkpoint(model, tmp_path / "run", {"classes": ["cat", "dog"], "label_mode": "binary"})
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "model.safetensors"]
    loaded, config = models.load_checkpoint(tmp_path / "run")
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(loaded(x), model(x))
    assert config["classes"] == ["cat", "dog"] and config["model_kwargs"] == {"dropout": 0.5}
    assert loaded.pretrained_cfg["input_size"] == (3, 64, 64)


def test_checkpoint_never_unpickles(tmp_path, monkeypatch):
    model = models.create("mnist_cnn")
    models.save_checkpoint(model, tmp_path, {})
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load used"))
    loaded, _ = models.load_checkpoint(tmp_path / "model.safetensors")
    assert torch.equal(loaded.dense.weight, model.dense.weight)


def test_broken_checkpoints_are_typed_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        models.load_checkpoint(tmp_path)
    models.save_checkpoint(models.create("mnist_cnn"), tmp_path, {})
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "model": "mnist_tf"}))
    with pytest.raises(CheckpointError, match="does not match"):
        models.load_checkpoint(tmp_path)


def test_fold_batchnorm_keeps_outputs():
    from convlens.models.fast import fold_batchnorm

    model = models.create("efficientnet_lite0", num_classes=5, input_size=64).eval()
    for module in model.modules():  # non-trivial statistics, so folding has something to get wrong
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), rtol=1e-4, atol=1e-4)


def test_pretrained_conv_base_without_top(tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(torchvision.models.vgg16().state_dict(), path)
    base = models.create("vgg16", num_classes=1, weights=str(path), include_top=False, input_size=32)
    assert base.forward_features(torch.zeros(1, 3, 32, 32)).shape == (1, 512, 1, 1)
    assert not any(isinstance(m, torch.nn.Linear) for m in base.modules())
    lite = models.create("efficientnet_lite0", pretrained=True, num_classes=2, input_size=64)
    assert lite(torch.zeros(1, 3, 64, 64)).shape == (1, 2) and lite.pretrained_cfg["labels"] is None
