"""`convlens split`: the book's split, idempotence, refusals, link modes, never touching SRC."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from convlens.cli import main
from convlens.data.split import split_pool
from convlens.errors import SplitError


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_book_split_of_the_shared_pool(shared_data, tmp_path, tree_snapshot, capsys):
    raw = shared_data("dogs-vs-cats/raw")
    dst = tmp_path / "book"
    args = [
        "split",
        str(raw),
        str(dst),
        "--train",
        "1000",
        "--val",
        "500",
        "--test",
        "500",
        "--order",
        "natural",
    ]
    assert main([*args, "--link", "symlink"]) == 0
    out = capsys.readouterr().out
    assert "Train Cat Image Count: 1000" in out and "Test Dog Image Count: 500" in out
    for split, ids in (
        ("train", range(1000)),
        ("validation", range(1000, 1500)),
        ("test", range(1500, 2000)),
    ):
        for cls in ("cat", "dog"):
            assert _names(dst / split / cls) == {f"{cls}.{i}.jpg" for i in ids}
    assert json.loads((dst / "split.json").read_text())["counts"]["validation"] == {"cat": 500, "dog": 500}
    before = tree_snapshot(dst)
    assert main([*args, "--link", "symlink"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert tree_snapshot(dst) == before


def test_copy_split_is_idempotent_and_leaves_src_alone(pets_pool, tmp_path, tree_snapshot):
    src_before = tree_snapshot(pets_pool)
    first = split_pool(pets_pool, tmp_path / "out", counts=(60, 20, 20))
    assert first.status == "written" and first.written == 200
    dst_before = tree_snapshot(tmp_path / "out")
    second = split_pool(pets_pool, tmp_path / "out", counts=(60, 20, 20))
    assert second.status == "unchanged" and tree_snapshot(tmp_path / "out") == dst_before
    assert tree_snapshot(pets_pool) == src_before
    assert (tmp_path / "out/train/cat/cat.1900.jpg").read_bytes() == (pets_pool / "cat.1900.jpg").read_bytes()


def test_a_deleted_file_is_restored_by_rerunning(pets_pool, tmp_path):
    split_pool(pets_pool, tmp_path / "out", counts=(5, 5, 5))
    (tmp_path / "out/test/dog/dog.1910.jpg").unlink()
    result = split_pool(pets_pool, tmp_path / "out", counts=(5, 5, 5))
    assert result.written == 1 and (tmp_path / "out/test/dog/dog.1910.jpg").exists()


def test_different_split_is_refused_unless_overwrite(pets_pool, tmp_path):
    dst = tmp_path / "out"
    split_pool(pets_pool, dst, counts=(10, 5, 5))
    with pytest.raises(SplitError, match="--overwrite"):
        split_pool(pets_pool, dst, counts=(20, 5, 5))
    (dst / "notes.txt").write_text("mine")
    result = split_pool(pets_pool, dst, counts=(20, 5, 5), overwrite=True)
    assert result.plan.counts["train"] == {"cat": 20, "dog": 20}
    assert len(list((dst / "train/cat").iterdir())) == 20
    assert (dst / "notes.txt").read_text() == "mine"


def test_unrelated_files_in_dst_are_refused(pets_pool, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    with pytest.raises(SplitError, match="already holds something else"):
        split_pool(pets_pool, tmp_path / "out", counts=(1, 1, 1))


def test_dry_run_writes_nothing(pets_pool, tmp_path, capsys):
    assert (
        main(["split", str(pets_pool), str(tmp_path / "out"), "--fractions", "0.5,0.3,0.2", "--dry-run"]) == 0
    )
    out = capsys.readouterr().out
    assert "train/cat: 50 files (cat.1900.jpg ... cat.1949.jpg)" in out and "dry run" in out
    assert not (tmp_path / "out").exists()


def test_fractions_random_order_is_stratified_and_seeded(pets_pool, tmp_path):
    a = split_pool(pets_pool, tmp_path / "a", fractions=(0.8, 0.1, 0.1), order="random", seed=1)
    split_pool(pets_pool, tmp_path / "b", fractions=(0.8, 0.1, 0.1), order="random", seed=1)
    split_pool(pets_pool, tmp_path / "c", fractions=(0.8, 0.1, 0.1), order="random", seed=2)
    assert a.plan.counts == {
        s: {"cat": n, "dog": n} for s, n in (("train", 80), ("validation", 10), ("test", 10))
    }
    assert (
        _names(tmp_path / "a/test/cat") == _names(tmp_path / "b/test/cat") != _names(tmp_path / "c/test/cat")
    )
    assert _names(tmp_path / "a/train/cat") != {f"cat.{i}.jpg" for i in range(1900, 1980)}


@pytest.mark.parametrize("link", ["hardlink", "symlink"])
def test_link_modes(pets_pool, tmp_path, link):
    split_pool(pets_pool, tmp_path / "out", counts=(2, 1, 1), link=link)
    placed = tmp_path / "out/train/cat/cat.1900.jpg"
    if link == "symlink":
        assert placed.is_symlink() and placed.resolve() == (pets_pool / "cat.1900.jpg").resolve()
    else:
        assert os.stat(placed).st_ino == os.stat(pets_pool / "cat.1900.jpg").st_ino


def test_class_folder_source_builtin_name_and_plural_folders(tmp_path, make_image):
    src = tmp_path / "src"
    for cls in ("bird", "fish"):
        for i in range(4):
            make_image(src / cls / f"{cls}_{i}.png")
    result = split_pool(src, tmp_path / "out", counts=(2, 1, 1), plural=True)
    assert _names(tmp_path / "out/train/birds") == {"bird_0.png", "bird_1.png"}
    assert result.plan.count_lines()[0] == "Train Bird Image Count: 2"
    builtin = split_pool("pets-mini", tmp_path / "pm", counts=(3, 0, 0))
    assert builtin.plan.counts == {"train": {"cat": 3, "dog": 3}}
    assert sorted(p.name for p in (tmp_path / "pm").iterdir()) == ["split.json", "train"]
