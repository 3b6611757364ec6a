"""Embedded thumbnails: size cap, data URIs that decode, every input kind, graceful failures."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from convlens.report.html.images import data_uri, picture, thumbnail


def decode(uri: str) -> Image.Image:
    header, payload = uri.split(",", 1)
    assert header.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def test_a_large_array_becomes_a_jpeg_thumbnail_of_at_most_256_px_keeping_its_aspect():
    array = np.random.default_rng(0).integers(0, 256, (600, 1000, 3), dtype=np.uint8)
    uri = data_uri(array)
    assert uri.startswith("data:image/jpeg;base64,")
    image = decode(uri)
    assert image.format == "JPEG" and image.size == (256, 154)


def test_small_images_are_not_enlarged_and_webp_is_available():
    image = decode(data_uri(np.zeros((40, 30, 3), np.uint8), fmt="webp"))
    assert image.format == "WEBP" and image.size == (30, 40)


@pytest.mark.parametrize("shape", [(50, 60), (50, 60, 1), (50, 60, 3), (50, 60, 4)])
def test_grey_colour_and_alpha_arrays(shape):
    image = thumbnail(np.full(shape, 200, np.uint8))
    assert image.size == (60, 50) and image.mode in ("L", "RGB")


def test_a_real_photo_file_is_shrunk(shared_data):
    photo = shared_data("dogs-vs-cats/raw") / "cat.0.jpg"
    with Image.open(photo) as original:
        assert max(original.size) > 256
    pic = picture(photo, "a cat", max_side=200)
    assert pic is not None and pic.alt == "a cat"
    assert max(pic.width, pic.height) == 200 and decode(pic.uri).size == (pic.width, pic.height)
    assert len(pic.uri) < 30_000


def test_a_float_array_is_refused_with_a_reason():
    with pytest.raises(TypeError, match="uint8"):
        data_uri(np.zeros((4, 4, 3), np.float32))


def test_missing_or_broken_files_give_no_picture(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    assert picture(tmp_path / "missing.jpg", "x") is None
    assert picture(broken, "x") is None
    assert picture(None, "x") is None
