"""Every registered model builds with weights=None, runs forward at a small size and follows the contract."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convlens import models
from convlens.errors import UnknownName
from convlens.models.summary import summarize

# Smallest sizes that keep each family's strides valid (tests stay fast on 2 CPU cores).
SMALL = {"inception_v3": 75, "small_convnet": 64, "vgg16": 32, "vgg19": 32, "vgg19_gap": 32}
SMALL.update({f"{kind}{depth}": 16 for kind in ("resnet", "plain") for depth in (20, 32, 56, 110)})
SMALL.update({f"{kind}{depth}": 32 for kind in ("resnet", "plain") for depth in (18, 34, 50)})


def _small_size(name: str) -> tuple[int, int, int]:
    c, h, _ = models.registry.entry(name).meta["default_input_size"]
    side = SMALL.get(name, min(h, 32))
    return (c, side, side)


@pytest.mark.parametrize("name", models.registry.names())
def test_every_model_builds_and_runs(name):
    size = _small_size(name)
    model = models.create(name, num_classes=3, input_size=size).eval()
    x = torch.randn(2, *size)
    with torch.no_grad():
        features = model.forward_features(x)
        logits = model(x)
    assert features.ndim == 4 and features.shape[0] == 2
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()
    assert isinstance(model.get_classifier(), nn.Linear) and model.get_classifier().out_features == 3
    cfg = model.pretrained_cfg
    assert cfg["input_size"] == size and cfg["num_classes"] == 3
    modules = dict(model.named_modules())
    assert model.layer_names() and all(n in modules for n in model.layer_names())
    summary = summarize(model)
    assert summary.total == sum(p.numel() for p in model.parameters()) and summary.non_trainable == 0
    assert [row[0] for row in summary.rows if row[0] != "flatten"] == model.layer_names()
    assert summary.rows[-1][2] == (3,)


@pytest.mark.parametrize("name", ["small_convnet", "mnist_cnn", "resnet20", "vgg19_gap"])
def test_reset_classifier(name):
    model = models.create(name, input_size=_small_size(name))
    model.reset_classifier(7)
    assert model(torch.zeros(1, *_small_size(name))).shape == (1, 7)


def test_unknown_name_lists_choices():
    with pytest.raises(UnknownName, match="small_convnet"):
        models.create("no_such_net")


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_seed_parameter_counts():
    assert _count(models.create("small_convnet", input_size=150)) == 3_453_121
    assert _count(models.create("small_convnet", input_size=150, dropout=0.5)) == 3_453_121
    assert _count(models.create("mnist_cnn")) == 50_186
    # seed 002: 3*3*1*32 + 3*3*32*64 (no biases) + 3136*256+256 + 256*256+256 + 256*10+10
    assert _count(models.create("mnist_tf")) == 288 + 18_432 + 803_072 + 65_792 + 2_570


def test_small_convnet_binary_and_dropout():
    model = models.create("small_convnet", dropout=0.5)
    assert model(torch.zeros(1, 3, 150, 150)).shape == (1, 1)
    assert any(isinstance(m, nn.Dropout) and m.p == 0.5 for m in model.modules())


def test_vgg16_conv_base_at_150():
    base = models.create("vgg16", input_size=150, include_top=False)
    assert _count(base) == 14_714_688
    assert base.forward_features(torch.zeros(1, 3, 150, 150)).shape == (1, 512, 4, 4)
    names = base.layer_names()
    assert names[0] == "block1_conv1" and "block5_conv3" in names and names[-1] == "block5_pool"


def test_vgg19_gap_leaky_relu():
    model = models.create("vgg19_gap", input_size=32, activation="leaky_relu")
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in model.modules())
    assert model.predictions.in_features == 512


def test_plain_and_residual_have_same_depth():
    res, plain = models.create("resnet20"), models.create("plain20")
    convs = lambda m: [n for n, x in m.named_modules() if isinstance(x, nn.Conv2d) and "downsample" not in n]
    assert len(convs(res)) == len(convs(plain)) == 19
    assert len(convs(models.create("resnet110"))) == 109


def test_imagenet_resnet_matches_torchvision():
    import torchvision

    ours, ref = models.create("resnet18").eval(), torchvision.models.resnet18().eval()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(ours(x), ref(x))
    assert _count(models.create("resnet50")) == 25_557_032  # torchvision resnet50
