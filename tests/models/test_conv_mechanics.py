"""examples/conv_mechanics.py reproduces seed 002's printed numbers and saves its figure."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "conv_mechanics.py"


@pytest.fixture(scope="module")
def mech():
    spec = importlib.util.spec_from_file_location("conv_mechanics", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_valid_convolution_numbers(mech):
    out = mech.tf_conv2d(mech.IMAGE, mech.FILTER)
    base = np.array([[12, 16], [24, 28]], np.float32)
    assert out.shape == (1, 2, 2, 3)
    for k, scale in enumerate((1, 10, -1)):
        np.testing.assert_array_equal(out[0, :, :, k], base * scale)


def test_same_convolution_pads_bottom_right(mech):
    out = mech.tf_conv2d(mech.IMAGE, mech.FILTER, padding="SAME")
    np.testing.assert_array_equal(out[0, :, :, 0], [[12, 16, 9], [24, 28, 15], [15, 17, 9]])


def test_same_max_pool_matches_seed(mech):
    pooled = mech.tf_max_pool(mech.tf_conv2d(mech.IMAGE, mech.FILTER), 2, 1, "SAME")
    seed = [[[28, 280, -12], [28, 280, -16]], [[28, 280, -24], [28, 280, -28]]]
    np.testing.assert_array_equal(pooled[0], seed)


def test_mnist_digit_shapes_and_figure(mech, tmp_path):
    digit = mech.load_digit(None)  # the built-in digit keeps this test independent of shared data
    conv, pool = mech.mnist_feature_maps(digit)
    assert conv.shape == (1, 14, 14, 5) and pool.shape == (1, 7, 7, 5)
    np.testing.assert_allclose(pool[0, 0, 0], conv[0, :2, :2].max(axis=(0, 1)))
    mech.save_figure(digit, conv, pool, tmp_path / "fig.png")
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"
