"""`convlens split`: the book's split, idempotence, refusals, link modes, never touching SRC."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from convlens.cli import main
from convlens.data.split import split_pool
from convlens.errors import ConfigError, SplitError


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
    # Issue #12 changed this: a file convlens did not write now blocks --overwrite (it used to be kept
    # beside the new split); once it is moved away the split is replaced.
    (dst / "notes.txt").write_text("mine")
    with pytest.raises(SplitError, match=r"did not write \(notes.txt\)"):
        split_pool(pets_pool, dst, counts=(20, 5, 5), overwrite=True)
    assert (dst / "notes.txt").read_text() == "mine" and len(list((dst / "train/cat").iterdir())) == 10
    (dst / "notes.txt").rename(tmp_path / "notes.txt")
    result = split_pool(pets_pool, dst, counts=(20, 5, 5), overwrite=True)
    assert result.plan.counts["train"] == {"cat": 20, "dog": 20} and result.removed == 40
    assert len(list((dst / "train/cat").iterdir())) == 20


def test_overwrite_never_deletes_a_file_it_did_not_write(pets_pool, tmp_path, tree_snapshot, capsys):
    dst = tmp_path / "out"
    split_pool(pets_pool, dst, counts=(10, 5, 5))
    thesis = dst / "test" / "important" / "thesis.tex"
    thesis.parent.mkdir()
    thesis.write_text("four years of work")
    (dst / "val").mkdir()
    (dst / "val" / "mine.jpg").write_bytes(b"x")
    (dst / "train" / "cat" / "extra.jpg").write_bytes(b"y")
    before = tree_snapshot(dst)
    args = ["split", str(pets_pool), str(dst), "--train", "20", "--val", "5", "--test", "5", "--overwrite"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "test/important/" in err and "train/cat/extra.jpg" in err and "val/" in err
    assert "Traceback" not in err
    assert tree_snapshot(dst) == before


def test_overwrite_removes_exactly_the_recorded_files_and_their_empty_folders(pets_pool, tmp_path):
    dst = tmp_path / "out"
    split_pool(pets_pool, dst, counts=(10, 5, 5), plural=True, link="symlink")
    result = split_pool(pets_pool, dst, fractions=(0.5, 0.5, 0.0), overwrite=True)
    assert sorted(p.name for p in dst.iterdir()) == ["split.json", "train", "validation"]
    assert _names(dst / "train") == {"cat", "dog"}  # the plural cats/ dogs/ folders went with their files
    assert result.removed == 40 and len(list((dst / "validation/dog").iterdir())) == 50
    assert all(p.is_file() and not p.is_symlink() for p in (dst / "train/cat").iterdir())
    assert len(list(pets_pool.iterdir())) == 200  # removing the links left their targets alone


def test_dst_without_split_json_is_never_cleared(pets_pool, tmp_path, tree_snapshot):
    dst = tmp_path / "out"
    (dst / "train" / "cat").mkdir(parents=True)
    (dst / "train" / "cat" / "cat.1900.jpg").write_bytes(b"my own photo")
    before = tree_snapshot(dst)
    for overwrite in (False, True):
        with pytest.raises(SplitError, match="never deletes files it did not write"):
            split_pool(pets_pool, dst, counts=(1, 1, 1), overwrite=overwrite)
    assert tree_snapshot(dst) == before


@pytest.mark.parametrize(
    "files",
    [
        {"train": {"..": ["precious.txt"]}},
        {"train": {"cat": ["../../precious.txt"]}},
        {"../..": {"x": ["precious.txt"]}},
        ["not", "a", "mapping"],
    ],
)
def test_a_tampered_split_json_cannot_reach_out_of_dst(pets_pool, tmp_path, files):
    dst = tmp_path / "deep" / "out"
    split_pool(pets_pool, dst, counts=(2, 1, 1))
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    manifest = json.loads((dst / "split.json").read_text())
    manifest["files"] = files
    (dst / "split.json").write_text(json.dumps(manifest))
    with pytest.raises(SplitError, match="never deletes"):
        split_pool(pets_pool, dst, counts=(3, 1, 1), overwrite=True)
    assert precious.read_text() == "keep" and len(list((dst / "train/cat").iterdir())) == 2


def test_a_split_folder_that_is_a_symlink_is_not_followed_when_overwriting(pets_pool, tmp_path):
    dst = tmp_path / "out"
    split_pool(pets_pool, dst, counts=(2, 1, 1))
    elsewhere = tmp_path / "elsewhere"
    (dst / "test").rename(elsewhere)
    (dst / "test").symlink_to(elsewhere)
    with pytest.raises(SplitError, match=r"did not write \(test\)"):
        split_pool(pets_pool, dst, counts=(3, 1, 1), overwrite=True)
    assert _names(elsewhere / "cat") == {"cat.1903.jpg"}


def test_dst_that_is_or_lies_under_a_file_is_a_clear_error(pets_pool, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(SplitError, match="is a file"):
        split_pool(pets_pool, blocker, counts=(1, 1, 1))
    with pytest.raises(SplitError, match="a-file is a file, not a folder"):
        split_pool(pets_pool, blocker / "sub" / "out", counts=(1, 1, 1))
    assert main(["split", str(pets_pool), str(blocker / "out"), "--train", "1"]) == 1
    assert "Traceback" not in capsys.readouterr().err and blocker.read_text() == "x"


def test_links_out_of_src_are_skipped_unless_followed(pets_pool, tmp_path, capsys):
    secret = tmp_path / "secret.jpg"
    secret.write_text("root:x:0:0")
    (pets_pool / "cat.925.jpg").symlink_to(secret)
    (pets_pool / "cat.926.jpg").symlink_to(pets_pool / "cat.1900.jpg")  # inside SRC: fine
    result = split_pool(pets_pool, tmp_path / "out", counts=(60, 20, 20))
    skipped = {Path(s.path).name: s.reason for s in result.plan.skipped}
    assert "outside SRC" in skipped["cat.925.jpg"] and "--follow-symlinks" in skipped["cat.925.jpg"]
    assert not list((tmp_path / "out").rglob("cat.925.jpg"))
    assert (tmp_path / "out/train/cat/cat.926.jpg").read_bytes() == (pets_pool / "cat.1900.jpg").read_bytes()
    followed = split_pool(pets_pool, tmp_path / "all", counts=(60, 20, 20), follow_symlinks=True)
    assert (
        followed.plan.skipped == [] and (tmp_path / "all/train/cat/cat.925.jpg").read_text() == "root:x:0:0"
    )
    assert main(["split", str(pets_pool), str(tmp_path / "cli"), "--train", "1", "--follow-symlinks"]) == 0
    assert main(["split", str(pets_pool), str(tmp_path / "cli2"), "--train", "1"]) == 0
    assert "outside SRC" in capsys.readouterr().err


def test_copies_are_plain_files_whatever_the_source_mode(pets_pool, tmp_path):
    src = pets_pool / "cat.1900.jpg"
    src.chmod(0o4755 | stat.S_ISGID | stat.S_ISVTX)
    (pets_pool / "dog.1900.jpg").chmod(0o400)
    old = os.umask(0o027)
    try:
        split_pool(pets_pool, tmp_path / "out", counts=(1, 0, 0))
    finally:
        os.umask(old)
    for cls in ("cat", "dog"):
        copy = tmp_path / f"out/train/{cls}/{cls}.1900.jpg"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o640
        assert copy.stat().st_mtime_ns == (pets_pool / f"{cls}.1900.jpg").stat().st_mtime_ns
    assert stat.S_IMODE(src.stat().st_mode) == 0o4755 | stat.S_ISGID | stat.S_ISVTX  # SRC untouched


@pytest.mark.parametrize("text", ["nan,0.1,0.1", "inf,0.1,0.1", "-0.5,0.1,0.1", "0.1,nan", "1e400,0,0"])
def test_non_finite_or_negative_fractions_are_config_errors(pets_pool, tmp_path, text, capsys):
    assert main(["split", str(pets_pool), str(tmp_path / "out"), "--fractions", text]) == 1
    err = capsys.readouterr().err
    assert "--fractions" in err and "0.8,0.1,0.1" in err and "Traceback" not in err
    values = tuple(float(v) for v in text.split(",")) + (0.0,) * (3 - len(text.split(",")))
    with pytest.raises(ConfigError, match="--fractions"):
        split_pool(pets_pool, tmp_path / "out", fractions=values)
    assert not (tmp_path / "out").exists()


def test_plural_folders_that_would_merge_two_classes_are_refused(tmp_path, make_image):
    for cls in ("cat", "cats"):
        make_image(tmp_path / "src" / cls / "x.png")
    with pytest.raises(SplitError, match="would share the folder 'cats'"):
        split_pool(tmp_path / "src", tmp_path / "out", counts=(1, 0, 0), plural=True)


def test_a_pool_of_non_images_names_what_it_found(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("x")
    with pytest.raises(SplitError, match="no image files .only 1 other file.*notes.txt"):
        split_pool(tmp_path / "src", tmp_path / "out", counts=(1, 0, 0))


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
