"""Overlay, activations, filter patterns and faithfulness metrics, on tiny fixtures."""

from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn

from convlens.explain.activations import capture_activations, channel_grid, default_layers, normalise_channel
from convlens.explain.filters import middle_conv_layer, pattern_grid, seed_patterns, seed_patterns_loop
from convlens.explain.filters_regularised import regularised_patterns
from convlens.explain.metrics import deletion_insertion, drop_and_increase, load_boxes, pointing_hit
from convlens.explain.overlay import jet, overlay

from .conftest import make_tiny

CFG = {"input_size": (3, 16, 16), "mean": None, "std": None}


def test_jet_colours_and_seed_overlay_at_photo_size():
    assert jet(np.array([[0.0, 1.0]])).tolist() == [[[0, 0, 128], [128, 0, 0]]]  # JET: dark blue .. dark red
    photo = np.full((30, 50, 3), 100, np.uint8)
    out = overlay(photo, np.ones((4, 4)))
    assert out.shape == (30, 50, 3)
    assert out[0, 0].tolist() == [round(100 + 0.4 * 128), 100, 100]
    assert overlay(np.full((5, 5, 3), 250, np.uint8), np.zeros((2, 2))).max() == 255  # saturated, as cv2


def test_activation_grid_uses_the_seed_normalisation():
    channel = np.array([[0.0, 1.0], [2.0, 3.0]])
    z = (channel - 1.5) / channel.std()
    assert normalise_channel(channel).tolist() == np.clip(z * 64 + 128, 0, 255).astype(np.uint8).tolist()
    grid = channel_grid(torch.rand(20, 3, 4))
    assert grid.shape == (2 * 3, 16 * 4) and grid[3:, 16:].max() == 0  # 16 a row; the rest left black


def test_activations_through_hooks_match_the_layers():
    model = make_tiny()
    x = torch.rand(1, 3, 8, 8)
    names = default_layers(model, x)
    assert names == ["features.0", "features.1", "features.2", "features.3"]
    acts = capture_activations(model, x, names)
    torch.testing.assert_close(acts["features.2"], model.features[:3](x))
    assert sum(len(m._forward_hooks) for m in model.modules()) == 0


def test_batched_filter_patterns_equal_the_loop_and_grid_has_margins():
    model = make_tiny()
    batched = seed_patterns(model, "features.2", list(range(6)), CFG, size=16, steps=5)
    looped = seed_patterns_loop(model, "features.2", list(range(6)), CFG, size=16, steps=5)
    assert batched.shape == (6, 16, 16, 3)
    assert np.abs(batched.astype(int) - looped).max() <= 1
    grid = pattern_grid(np.full((64, 16, 16, 3), 200, np.uint8))
    assert grid.shape == (8 * 16 + 7 * 5, 8 * 16 + 7 * 5, 3)
    assert grid[16:21].max() == 0 and grid[:16, :16].min() == 200
    assert middle_conv_layer(model, torch.rand(1, 3, 8, 8)) == "features.2"


def test_filter_ascent_raises_the_filter_activation():
    model = make_tiny()
    x0 = torch.rand(1, 3, 16, 16) * 20 + 128
    before = model.features[:3](x0 / 255)[0, 1].mean()
    img = seed_patterns(model, "features.2", [1], CFG, size=16, steps=10, init=x0)
    assert img.dtype == np.uint8
    from convlens.explain.filters import filter_means

    x = x0.clone()
    for _ in range(10):  # the same ascent, checked directly on the objective
        x.requires_grad_(True)
        (g,) = torch.autograd.grad(
            filter_means(model, model.features[2], x / 255, torch.tensor([1])).sum(), x
        )
        x = (x + g / (g.pow(2).mean().sqrt() + 1e-5)).detach()
    assert model.features[:3](x / 255)[0, 1].mean() > before
    reg = regularised_patterns(model, "features.2", [0, 1], CFG, size=16, steps=3)
    assert reg.shape == (2, 16, 16, 3) and reg.dtype == np.uint8


class _LeftHalf(nn.Module):
    """Class 0's logit grows with the energy of the left half of the image: the perfect map is the left half."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = x[:, :, :, : x.shape[-1] // 2].pow(2).mean(dim=(1, 2, 3)) * 10 - 5
        return torch.stack([left, torch.zeros_like(left)], dim=1)


def test_deletion_and_insertion_reward_the_right_map():
    torch.manual_seed(0)
    x = torch.randn(3, 8, 8).sign()  # +-1 pixels: blurring and deleting both remove the energy
    good = torch.zeros(8, 8)
    good[:, :4] = 1 + torch.rand(8, 4)
    bad = 1 - good.clamp(max=1)
    del_good, ins_good = deletion_insertion(_LeftHalf(), x, good, 0)
    del_bad, ins_bad = deletion_insertion(_LeftHalf(), x, bad, 0)
    assert del_good < del_bad and ins_good > ins_bad
    drop_good, _ = drop_and_increase(_LeftHalf(), x, good.clamp(max=1), 0)
    drop_bad, _ = drop_and_increase(_LeftHalf(), x, bad, 0)
    assert drop_good < drop_bad


def test_boxes_json_and_csv_and_the_pointing_game(tmp_path):
    (tmp_path / "b.json").write_text(json.dumps({"a.png": [[0, 0, 10, 10]], "b.png": [1, 1, 2, 2]}))
    (tmp_path / "b.csv").write_text("image,x0,y0,x1,y1\na.png,0,0,10,10\na.png,50,50,60,60\n")
    assert load_boxes(tmp_path / "b.json") == {"a.png": [(0, 0, 10, 10)], "b.png": [(1, 1, 2, 2)]}
    assert load_boxes(tmp_path / "b.csv")["a.png"] == [(0, 0, 10, 10), (50, 50, 60, 60)]
    heat = np.zeros((10, 10))
    heat[9, 9] = 1  # bottom-right cell: photo pixel ~ (95, 95)
    assert pointing_hit(heat, (100, 100), [(80, 80, 100, 100)], tolerance=0)
    assert not pointing_hit(heat, (100, 100), [(0, 0, 10, 10)], tolerance=0)
