"""Explanation figures a person reads without the docs (issue #15): activation grids, guided gradients in RGB,
a colour bar and the class probability in the 3-panel figure, one comparison figure per image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from convlens.explain import run as explain_run
from convlens.explain.activations import (
    activation_figure,
    channel_grid,
    readable_scale,
    save_activation_images,
)
from convlens.explain.overlay import gradient_image, panel_figure
from convlens.explain.run import ExplainConfig, explain_images
from convlens.models.loaded import LoadedModel

from .conftest import make_tiny


def test_grid_enlarges_channels_with_gaps_and_keeps_the_seed_normalisation():
    act = torch.rand(20, 3, 4)
    plain, big = channel_grid(act), channel_grid(act, scale=3, gap=2)
    assert big.shape == (2 * 9 + 2, 16 * 12 + 15 * 2)
    assert (big[9:11] == 0).all() and (big[:, 12:14] == 0).all()  # gaps between rows and columns
    assert np.array_equal(big[:9:3, :12:3], plain[:3, :4])  # nearest neighbour: the same values, enlarged


def test_small_maps_are_enlarged_and_wide_layers_stay_bounded():
    assert readable_scale(7, 7) == 7  # 7x7 -> 49 px squares
    assert readable_scale(148, 148) == 1
    assert 16 * 30 * readable_scale(3, 30) <= 2400


def test_activation_figure_is_titled_with_layer_and_shape(tmp_path):
    fig = activation_figure("conv2d_4", torch.rand(128, 7, 7))
    assert "conv2d_4" in fig.texts[0].get_text() and "7×7×128" in fig.texts[0].get_text()
    (path,) = [p for p in save_activation_images({"conv2d_4": torch.rand(1, 128, 7, 7)}, tmp_path) if "grid" in p.name]
    width, height = Image.open(path).size
    assert width >= 16 * 7 * 7 and height >= 8 * 7 * 7  # 49 px a channel, not 7


def test_gradients_are_drawn_in_rgb_around_mid_grey():
    assert (gradient_image(np.zeros((3, 5, 6))) == 128).all()
    image = gradient_image(np.random.default_rng(0).normal(size=(3, 20, 20)))
    assert image.shape == (20, 20, 3) and image.dtype == np.uint8
    assert abs(float(image.mean()) - 127.5) < 3 and image.std() > 10


def test_panel_figure_has_a_colour_bar_for_maps_and_none_for_gradients():
    photo = np.zeros((20, 30, 3), np.uint8)
    assert len(panel_figure(photo, np.random.rand(4, 6), photo, "t").axes) == 4  # 3 panels + the colour bar
    assert len(panel_figure(photo, photo, photo, "t", middle="guided-backprop").axes) == 3


def _loaded() -> LoadedModel:
    cfg = {"input_size": (3, 16, 16), "mean": [0.5] * 3, "std": [0.5] * 3, "interpolation": "bilinear"}
    return LoadedModel(make_tiny(num_classes=3), cfg, ["cat", "dog", "fox"])


def _photo(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "pet.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(path)
    return path


def test_several_methods_give_one_comparison_figure_and_titled_panels(tmp_path, monkeypatch):
    titles = []
    original = explain_run.panel_figure
    monkeypatch.setattr(explain_run, "panel_figure", lambda *a, **k: titles.append(a[3]) or original(*a, **k))
    _photo(tmp_path / "in")
    methods = ["gradcam", "guided-backprop", "guided-gradcam"]
    config = ExplainConfig(tmp_path / "in", tmp_path / "out", methods, progress=False)
    records = list(explain_images(_loaded(), config))
    folder = tmp_path / "out" / "pet"
    assert Image.open(folder / "methods.png").size[0] >= 4 * 250  # the photo + 3 methods, side by side
    assert all(r.files["methods"] == str(folder / "methods.png") for r in records)
    assert all(" · p = " in t and "class " in t for t in titles) and len(titles) == 3
    guided = np.asarray(Image.open(folder / "guided-backprop_overlay.jpg"), dtype=np.float64)
    assert guided.shape == (30, 40, 3) and abs(guided.mean() - 128) < 20  # mid-grey gradients, not a JET map


def test_one_method_writes_no_comparison(tmp_path):
    _photo(tmp_path / "in")
    config = ExplainConfig(tmp_path / "in", tmp_path / "out", ["gradcam"], progress=False)
    (record,) = explain_images(_loaded(), config)
    assert "methods" not in record.files and not (tmp_path / "out" / "pet" / "methods.png").exists()


class _Transfer(torch.nn.Module):
    """A base inside a wrapper whose layer names lack the ``base.`` prefix, as a features run's model."""

    def __init__(self) -> None:
        super().__init__()
        self.base = make_tiny()

    def forward(self, x):
        return self.base(x)

    def layer_names(self):
        return self.base.layer_names()


def test_default_layers_of_a_transfer_model_match_by_suffix():
    from convlens.explain.activations import capture_activations, default_layers

    model, x = _Transfer(), torch.rand(1, 3, 8, 8)
    names = default_layers(model, x)
    assert names == ["features.0", "features.1", "features.2", "features.3"]
    assert capture_activations(model, x, names)["features.2"].shape == (1, 16, 8, 8)


def test_no_spatial_layer_is_an_error_not_an_empty_folder():
    from convlens.errors import ExplainError
    from convlens.explain.activations import default_layers

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    with pytest.raises(ExplainError, match="--layers"):
        default_layers(model, torch.rand(1, 3, 2, 2))
