"""Augmentation: Keras ImageDataGenerator meanings, checked against scipy and (when installed) Keras itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from convlens.data.augment import Augmentation, augment_batch, identity_params, sample_params
from convlens.errors import ConfigError

CASES = [
    {"theta": 30.0},
    {"theta": -40.0, "zoom_x": 1.2, "zoom_y": 0.8},
    {"shear": 11.5},
    {"shift_x": 0.2, "shift_y": -0.1},
    {"theta": 25.0, "shift_x": -0.15, "shear": 5.0, "zoom_x": 0.9, "zoom_y": 1.1},
]


def _image(size: int = 24, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    smooth = ndimage.gaussian_filter(rng.random((channels, size, size)), sigma=(0, 2, 2))
    return (smooth - smooth.min()) / (smooth.max() - smooth.min())


def _ours(img: np.ndarray, **params) -> np.ndarray:
    x = torch.from_numpy(img).float().unsqueeze(0)
    return augment_batch(x, Augmentation(), params=identity_params(1, **params))[0].double().numpy()


def _scipy_oracle(img: np.ndarray, theta=0.0, shift_x=0.0, shift_y=0.0, shear=0.0, zoom_x=1.0, zoom_y=1.0):
    """Keras' recipe written out independently: (x, y) matrices, centre offset, scipy order 1, mode nearest."""
    _, h, w = img.shape
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    shift = np.array([[1, 0, shift_x * w], [0, 1, shift_y * h], [0, 0, 1]])
    shr = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    zoom = np.diag([zoom_x, zoom_y, 1.0])
    c = np.array([[1, 0, (w - 1) / 2], [0, 1, (h - 1) / 2], [0, 0, 1]])
    m = c @ rot @ shift @ shr @ zoom @ np.linalg.inv(c)
    perm = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]])  # (x, y) -> (row, col) for scipy
    m = perm @ m @ perm
    return np.stack(
        [ndimage.affine_transform(ch, m[:2, :2], m[:2, 2], order=1, mode="nearest") for ch in img]
    )


@pytest.mark.parametrize("params", CASES)
def test_matches_keras_recipe_with_scipy(params):
    img = _image()
    assert np.abs(_ours(img, **params) - _scipy_oracle(img, **params)).max() < 1e-4


@pytest.mark.parametrize("params", CASES)
def test_matches_keras_apply_affine_transform(params, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    legacy = pytest.importorskip(
        "keras.src.legacy.preprocessing.image", reason="keras (bench extra) not installed"
    )
    img = _image()
    n = img.shape[1]
    kwargs = {
        "theta": params.get("theta", 0.0),
        "tx": params.get("shift_x", 0.0) * n,  # Keras 3 puts its tx on the x (column) axis
        "ty": params.get("shift_y", 0.0) * n,
        "shear": params.get("shear", 0.0),
        "zx": params.get("zoom_x", 1.0),
        "zy": params.get("zoom_y", 1.0),
    }
    theirs = legacy.apply_affine_transform(
        img, channel_axis=0, row_axis=1, col_axis=2, fill_mode="nearest", **kwargs
    )
    assert np.abs(_ours(img, **params) - theirs).max() < 1e-4


def test_exact_cases_flip_and_quarter_turn():
    img = _image(9)
    assert np.allclose(_ours(img, flip_h=True), img[:, :, ::-1], atol=1e-6)
    assert np.allclose(_ours(img, flip_v=True), img[:, ::-1, :], atol=1e-6)
    # A 90° rotation of a square image moves every pixel onto another pixel centre.
    rotated = _ours(img, theta=90.0)
    assert np.allclose(rotated, np.rot90(img, k=1, axes=(1, 2)), atol=1e-5) or np.allclose(
        rotated, np.rot90(img, k=-1, axes=(1, 2)), atol=1e-5
    )


def test_nearest_fill_repeats_edge_pixels():
    img = np.zeros((1, 8, 8))
    img[0, :, 0] = 1.0  # left column white
    out = _ours(img, shift_x=-0.5)  # read from 4 px further left: the left half repeats column 0
    assert np.allclose(out[0, :, :4], 1.0, atol=1e-5) and np.allclose(out[0, :, 5:], 0.0, atol=1e-5)


def test_book_preset_ranges_and_sampling():
    aug = Augmentation.preset("book")
    assert (aug.rotation, aug.width_shift, aug.height_shift, aug.shear) == (40, 0.2, 0.2, 0.2)
    assert aug.zoom_bounds == (0.8, 1.2) and aug.horizontal_flip and aug.fill_mode == "nearest"
    p = sample_params(aug, 4000, torch.Generator().manual_seed(1))
    assert p["theta"].abs().max() <= 40 and p["theta"].abs().max() > 39
    assert p["shift_x"].abs().max() <= 0.2 and p["shear"].abs().max() <= 0.2
    assert 0.8 <= p["zoom_x"].min() and p["zoom_y"].max() <= 1.2
    assert 0.45 < p["flip_h"].float().mean() < 0.55 and not p["flip_v"].any()


def test_reproducible_with_seed_and_batch_shapes():
    x = torch.rand(6, 3, 20, 20)
    aug = Augmentation.preset("book")
    a = augment_batch(x, aug, torch.Generator().manual_seed(3))
    b = augment_batch(x, aug, torch.Generator().manual_seed(3))
    c = augment_batch(x, aug, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.allclose(a[0], a[1] * 0 + a[0].mean())  # images differ from a flat fill
    assert augment_batch(x, Augmentation()) is x


def test_parse_preset_with_overrides_and_errors():
    aug = Augmentation.parse("book,rotation=20,horizontal_flip=false,fill_mode=reflect")
    assert aug.rotation == 20 and not aug.horizontal_flip and aug.fill_mode == "reflect" and aug.shear == 0.2
    assert Augmentation.preset("book,zoom=0.1").zoom_bounds == pytest.approx((0.9, 1.1))
    with pytest.raises(ConfigError, match="unknown augmentation preset"):
        Augmentation.parse("bok")
    with pytest.raises(ConfigError, match="unknown augmentation parameter"):
        Augmentation.parse("book,rotate=3")
    with pytest.raises(ConfigError, match="fill_mode"):
        Augmentation(fill_mode="wrap-around")


def test_preview_refuses_bad_counts_sizes_and_its_own_input(tmp_path, capsys):
    import shutil

    from convlens.cli import main
    from convlens.data.builtin import PETS_MINI_DIR

    photo = tmp_path / "dog.jpg"
    shutil.copy(PETS_MINI_DIR / "dog.1900.jpg", photo)
    before = photo.read_bytes()
    (tmp_path / "a-file").write_text("x")
    cases = [
        (["--count", "0"], "--count must be at least 1"),
        (["--count", "-1"], "--count must be at least 1"),
        (["--size", "0"], "positive whole numbers"),
        (["--size", "100000"], "choose a smaller image size"),
        (["--count", "100000"], "lower --count or --size"),
        (["--augment", "rotation=nan"], "rotation must be a finite number"),
        (["--augment", "shear=inf"], "shear must be a finite number"),
        (["-o", str(photo)], "is the photo itself"),
        (["-o", str(tmp_path)], "is a folder"),
        (["-o", str(tmp_path / "a-file" / "x.png")], "a-file is a file, not a folder"),
    ]
    for extra, message in cases:
        args = ["data", "augment-preview", str(photo), "-o", str(tmp_path / "sheet.png"), *extra]
        assert main(args) == 1, extra
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (extra, err)
    assert photo.read_bytes() == before and not (tmp_path / "sheet.png").exists()
