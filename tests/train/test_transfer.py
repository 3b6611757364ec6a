"""Freezing, unfreezing from a named layer, the dense head, the feature loader."""

from __future__ import annotations

import pytest
import torch

from convlens.errors import ConfigError
from convlens.train.features import FeatureCache, FeatureLoader
from convlens.train.transfer import (
    DenseHead,
    base_in_inference_mode,
    freeze_base,
    trainable_tensors,
    unfreeze_from,
    with_dense_head,
)

from .conftest import TinyNet


def test_freeze_keeps_only_the_classifier():
    model = TinyNet(1)
    assert freeze_base(model) == (6, 2)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]


def test_unfreeze_from_a_named_layer():
    model = TinyNet(1)
    assert unfreeze_from(model, "conv2d_2") == ["conv2d_2", "fc"]
    assert trainable_tensors(model) == 4 and not model.conv2d_1.weight.requires_grad
    with pytest.raises(ConfigError, match="choose one of: conv2d_1, conv2d_2, fc"):
        unfreeze_from(model, "block5_conv1")


def test_dense_head_flattens_small_maps_and_pools_large_ones():
    small, large = DenseHead((512, 4, 4), 1), DenseHead((1280, 7, 7), 3)
    assert small.dense.in_features == 8192 and small.flatten
    assert large.dense.in_features == 1280 and not large.flatten
    assert large(torch.rand(2, 1280, 7, 7)).shape == (2, 3)
    assert trainable_tensors(small) == 4  # the book's dense 256 + dense 1: 4 weight tensors


def test_feature_loader_shuffles_per_epoch_and_covers_all(tmp_path):
    loader = FeatureLoader(torch.arange(10.0).view(10, 1), list(range(10)), 4, shuffle=True, seed=1)
    first = torch.cat([y for _, y in loader])
    loader.set_epoch(1)
    second = torch.cat([y for _, y in loader])
    assert (
        sorted(first.tolist()) == list(range(10)) and first.tolist() != second.tolist() and len(loader) == 3
    )


def test_feature_cache_round_trip(tmp_path):
    cache = FeatureCache(tmp_path)
    key = FeatureCache.key(base="b", size=32)
    assert cache.get(key) is None
    cache.put(key, torch.ones(2, 3))
    assert torch.equal(cache.get(key), torch.ones(2, 3)) and key != FeatureCache.key(base="b", size=64)


def test_book_head_counts_like_keras():
    from convlens.train.transfer import with_dense_head

    model = with_dense_head(TinyNet(1), 1, (3, 32, 32))
    assert freeze_base(model) == (
        8,
        4,
    )  # the base's unused classifier is never counted (VGG16: 26 + 4 = 30 -> 4)
    assert unfreeze_from(model, "conv2d_2") == ["conv2d_2", "fc"]
    assert trainable_tensors(model) == 6 and not model.base.fc.weight.requires_grad


def test_pooled_features_give_the_same_logits_as_maps():
    from convlens.train._device import resolve_precision
    from convlens.train.features import extract_features

    base, head = TinyNet(1).eval(), DenseHead((1280, 7, 7), 2).eval()
    maps = torch.rand(3, 1280, 7, 7)
    assert torch.allclose(head(maps), head(maps.mean(dim=(2, 3))))
    loader = [(torch.rand(2, 3, 16, 16), torch.zeros(2))]
    fp32 = resolve_precision("fp32", torch.device("cpu"))
    pooled = extract_features(base, loader, fp32, progress=False, pool=True)
    full = extract_features(base, loader, fp32, progress=False)
    assert pooled.shape == (2, 8) and torch.allclose(pooled, full.mean(dim=(2, 3)))


def test_vgg16_transfer_counts_match_the_book():
    """The base is the conv base alone (no fc1/fc2): 30 -> 4 frozen, 10 from block5_conv1, as in the book."""
    from convlens.train import TrainConfig
    from convlens.train._models import transfer_model

    config = TrainConfig(data="unused", base="vgg16", mode="frozen", image_size=150)
    model = transfer_model(config, 1, pretrained=False)
    assert sum(p.numel() for p in model.base.parameters()) == 14_714_688
    assert freeze_base(model) == (30, 4)
    unfreeze_from(model, "block5_conv1")
    assert trainable_tensors(model) == 10


def test_base_in_inference_mode_leaves_only_the_head_training():
    """Batch norm (unfrozen or not), dropout and stochastic depth in the base off; the head's Dropout on."""
    from convlens.models.efficientnet_lite import MBConv, efficientnet_lite0
    from convlens.train.tail import TailClassifier

    model = with_dense_head(efficientnet_lite0(10, (3, 32, 32), include_top=False), 10, (3, 32, 32))
    unfreeze_from(model, "blocks.11")
    model.train()
    base_in_inference_mode(model)
    assert model.training and model.head.training and model.head.dropout.training
    assert not any(m.training for m in model.base.modules())
    assert any(m.drop_path > 0 for m in model.base.modules() if isinstance(m, MBConv))
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(model(x), model(x)) is False  # the head's dropout
    assert torch.equal(model.base.forward_features(x), model.base.forward_features(x))  # no stochastic depth

    tail = TailClassifier(list(model.base.blocks[11:]), model.head)
    tail.train()
    base_in_inference_mode(tail)
    assert model.head.dropout.training and not any(m.training for m in tail.chain.modules())
