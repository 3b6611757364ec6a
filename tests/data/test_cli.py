"""CLI smoke tests of the data area on the pets-mini built-in."""

from __future__ import annotations

import json

from PIL import Image

from convlens.cli import main
from convlens.data.builtin import PETS_MINI_DIR


def test_data_info_json_on_builtin(capsys):
    assert main(["data", "info", "pets-mini", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["splits"]["pool"]["cat"]["count"] == 100 == info["splits"]["pool"]["dog"]["count"]
    assert max(info["splits"]["pool"]["dog"]["max_size"]) <= 160
    assert info["unreadable"] == [] and info["suspicious"] == []


def test_data_info_table_on_split(tmp_path, capsys):
    assert main(["split", "pets-mini", str(tmp_path / "s"), "--fractions", "0.6,0.2,0.2"]) == 0
    assert main(["data", "info", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "validation" in out and "RGB 20" in out


def test_augment_preview_writes_a_reproducible_sheet(tmp_path, capsys):
    image = PETS_MINI_DIR / "dog.1900.jpg"
    before = image.read_bytes()
    args = ["data", "augment-preview", str(image), "--count", "3", "--size", "40", "--seed", "7"]
    assert main([*args, "--out", str(tmp_path / "a.png")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.png")]) == 0
    assert main([*args[:-1], "8", "--out", str(tmp_path / "c.png")]) == 0
    a, b, c = (Image.open(tmp_path / f"{n}.png") for n in "abc")
    assert a.size == (2 * 40 + 3 * 4, 2 * 40 + 3 * 4)  # original + 3 copies on a 2x2 grid with margins
    assert a.tobytes() == b.tobytes() != c.tobytes()
    assert "rotation ±40°" in capsys.readouterr().out
    assert image.read_bytes() == before


def test_augment_preview_overrides_and_bad_image(tmp_path, capsys):
    image = PETS_MINI_DIR / "cat.1901.jpg"
    out = tmp_path / "flip.png"
    assert (
        main(
            [
                "data",
                "augment-preview",
                str(image),
                "--augment",
                "none,horizontal_flip=true",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    assert main(["data", "augment-preview", str(tmp_path / "bad.jpg"), "--out", str(tmp_path / "x.png")]) == 1
    assert "cannot read" in capsys.readouterr().err and not (tmp_path / "x.png").exists()


def test_builtins_listed(capsys):
    assert main(["data", "builtins"]) == 0
    out = capsys.readouterr().out
    assert "pets-mini" in out and "digits" in out


def test_cache_listing_and_clear(capsys):
    from convlens.data import resolve_dataset

    resolve_dataset(
        "pets-mini", image_size=16, progress=False
    )  # CONVLENS_CACHE is a temporary folder in tests
    assert main(["data", "cache"]) == 0
    assert "1 folder(s)" in capsys.readouterr().out
    assert main(["data", "cache", "--clear"]) == 0
    assert "cleared 1 cache folder(s)" in capsys.readouterr().out
    assert main(["data", "cache"]) == 0 and "0 folder(s)" in capsys.readouterr().out
