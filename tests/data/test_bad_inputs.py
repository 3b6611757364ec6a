"""A generated corpus of bad inputs: each gives a clear error or a reported skip, and no user file changes."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlens.cli import main
from convlens.data import resolve_dataset
from convlens.data.images import BadImage, decode
from convlens.data.info import dataset_info
from convlens.data.mnist import read_idx
from convlens.data.split import split_pool
from convlens.errors import ConvlensError, DataError, NotAnImageFolder, SplitError


def _png_bomb(path: Path, side: int = 100_000) -> None:
    """A valid PNG header that claims side x side pixels, with a tiny body (never decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))


def _jpeg_bytes(make_image, tmp_path: Path, **kw) -> bytes:
    return make_image(tmp_path / "src.jpg", size=(64, 48), **kw).read_bytes()


# name -> (file name in class "a", bytes or a writer, expected reason fragment)
def _bad_files(make_image, tmp_path: Path) -> dict[str, tuple[str, bytes, str]]:
    jpeg = _jpeg_bytes(make_image, tmp_path)
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(png, "PNG")
    bomb = tmp_path / "bomb.png"
    _png_bomb(bomb)
    return {
        "zero-byte": ("zero.jpg", b"", "empty file"),
        "truncated jpeg": ("trunc.jpg", jpeg[: len(jpeg) // 2], "truncated"),
        "truncated png": ("trunc.png", png.getvalue()[:60], "truncated"),
        "text named .jpg": ("notes.jpg", b"hello, I am not a picture\n" * 20, "not an image"),
        "svg named .png": ("vector.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "not an image"),
        "unsupported extension": ("photo.heic", b"\0\0\0\x18ftypheic", "unsupported file type"),
        "non-image file": ("readme.txt", b"labels", "unsupported file type"),
        "decompression bomb": ("bomb.png", bomb.read_bytes(), "decompression bomb"),
        "garbage after jpeg magic": ("junk.jpeg", b"\xff\xd8\xff\xe0" + bytes(200), "not an image"),
    }


@pytest.fixture
def corpus(tmp_path, make_image):
    root = tmp_path / "corpus"
    for i in range(3):
        make_image(root / "a" / f"good{i}.jpg")
        make_image(root / "b" / f"good{i}.jpg", color=(10, 200, 10))
    cases = _bad_files(make_image, tmp_path)
    for name, content, _ in cases.values():
        (root / "a" / name).write_bytes(content)
    return root, cases


def test_bad_files_are_skipped_and_reported_by_loader(corpus, tree_snapshot, caplog):
    root, cases = corpus
    before = tree_snapshot(root)
    with caplog.at_level(logging.WARNING):
        splits = resolve_dataset(root, image_size=(16, 16), val_fraction=0.34, progress=False)
    reasons = {Path(s.path).name: s.reason for s in splits.skipped}
    for label, (name, _, fragment) in cases.items():
        assert fragment in reasons.get(name, ""), f"{label}: {reasons.get(name)}"
    assert len(splits.train) + len(splits.validation) == 6
    assert "skipped" in caplog.text
    again = resolve_dataset(root, image_size=(16, 16), val_fraction=0.34, progress=False)  # from the cache
    assert {Path(s.path).name: s.reason for s in again.skipped} == reasons
    assert np.array_equal(again.train.images, splits.train.images)
    assert tree_snapshot(root) == before


def test_bad_files_are_listed_by_info_and_cli_exits_nonzero(corpus, tree_snapshot, capsys):
    root, cases = corpus
    before = tree_snapshot(root)
    info = dataset_info(root)
    listed = {Path(s.path).name for s in info.unreadable + info.suspicious}
    assert {name for name, _, _ in cases.values()} <= listed
    assert info.splits["all"]["a"].count == 3
    assert main(["data", "info", str(root)]) == 1
    assert "unreadable" in capsys.readouterr().err
    assert tree_snapshot(root) == before


def test_bad_files_are_skipped_by_split_copy(corpus, tmp_path, tree_snapshot):
    root, _ = corpus
    before = tree_snapshot(root)
    result = split_pool(root, tmp_path / "out", counts=(1, 1, 1))
    assert {Path(s.path).suffix for s in result.plan.skipped} == {".heic", ".txt"}
    assert tree_snapshot(root) == before


def test_decode_raises_typed_reason_for_each_bad_file(corpus):
    root, cases = corpus
    for name, _, fragment in cases.values():
        if fragment == "unsupported file type":
            continue
        with pytest.raises(BadImage, match=fragment):
            decode(root / "a" / name, (8, 8))


def test_unreadable_permissions_are_reported(tmp_path, make_image, monkeypatch):
    path = make_image(tmp_path / "x" / "a" / "locked.jpg")
    path.chmod(0)
    from convlens.data import images

    real_open = images.Image.open

    def denied(fp, *a, **k):  # root ignores chmod 000: simulate what a normal user sees
        if Path(fp).name == "locked.jpg":
            raise PermissionError(13, "Permission denied")
        return real_open(fp, *a, **k)

    monkeypatch.setattr(images.Image, "open", denied)
    with pytest.raises(BadImage, match="permission denied"):
        decode(path, (8, 8))
    path.chmod(0o644)


def test_empty_class_folder_is_a_clear_error(tmp_path, make_image):
    make_image(tmp_path / "d" / "a" / "x.png")
    (tmp_path / "d" / "b").mkdir()
    with pytest.raises(NotAnImageFolder, match="holds no image"):
        resolve_dataset(tmp_path / "d", image_size=8, progress=False)
    with pytest.raises(SplitError, match="empty"):
        split_pool(tmp_path / "d", tmp_path / "out", counts=(1, 0, 0))


def test_class_in_validation_but_not_train_is_an_error(split_folder, make_image):
    make_image(split_folder / "validation" / "c" / "c0.png")
    with pytest.raises(DataError, match="train lacks"):
        resolve_dataset(split_folder, image_size=8, progress=False)


def test_class_in_train_but_not_validation_is_reported(split_folder, caplog):
    import shutil

    shutil.rmtree(split_folder / "validation" / "b")
    with caplog.at_level(logging.WARNING):
        splits = resolve_dataset(split_folder, image_size=8, progress=False)
    assert "no folder for class 'b'" in caplog.text
    assert splits.validation.class_counts() == {"a": 2, "b": 0}


def test_folder_without_classes_or_missing_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotAnImageFolder, match="no class sub-folders"):
        resolve_dataset(tmp_path / "empty", progress=False)
    with pytest.raises(NotAnImageFolder, match="neither a folder nor a built-in"):
        resolve_dataset(tmp_path / "missing", progress=False)
    with pytest.raises(SplitError, match="not a folder"):
        split_pool(tmp_path / "missing", tmp_path / "out", counts=(1, 1, 1))


def test_dst_inside_src_and_src_inside_dst_are_refused(pets_pool, tmp_path, tree_snapshot):
    before = tree_snapshot(pets_pool)
    for dst in (pets_pool / "splits", pets_pool, tmp_path):
        with pytest.raises(SplitError, match="inside"):
            split_pool(pets_pool, dst, counts=(1, 1, 1))
    assert tree_snapshot(pets_pool) == before


def test_asking_too_many_names_class_and_counts(pets_pool, tmp_path):
    with pytest.raises(SplitError, match=r"class 'cat' has 100 images but 90 \+ 10 \+ 10 = 110"):
        split_pool(pets_pool, tmp_path / "out", counts=(90, 10, 10))
    assert not (tmp_path / "out").exists()


def test_bad_idx_files_are_clear_errors(tmp_path):
    (tmp_path / "bad-magic").write_bytes(b"\x12\x34\x56\x78" + bytes(20))
    header = b"\0\0\x08\x03" + struct.pack(">III", 10, 28, 28)
    (tmp_path / "short").write_bytes(header + bytes(100))
    with pytest.raises(DataError, match="bad magic"):
        read_idx(tmp_path / "bad-magic")
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short")


def test_odd_but_valid_images_load(tmp_path, make_image):
    root = tmp_path / "odd"
    make_image(root / "a" / "cmyk.jpg", mode="CMYK")
    make_image(root / "a" / "grey.jpg", mode="L")
    make_image(root / "a" / "palette.png", mode="P")
    Image.fromarray(np.full((16, 20), 40000, dtype=np.uint16)).save(root / "a" / "deep.png")
    (root / "b").mkdir()
    Image.new("RGBA", (20, 16), (0, 0, 0, 0)).save(root / "b" / "clear.png")
    splits = resolve_dataset(root, image_size=(8, 8), progress=False)
    assert len(splits.train) == 5 and not splits.skipped
    by_name = {Path(p).name: img for p, img in zip(splits.train.paths, splits.train.images)}
    assert by_name["deep.png"].min() == 40000 >> 8  # 16-bit scaled to 8, not clipped to 255
    assert (by_name["clear.png"] == 255).all()  # transparent shows as white


def test_cli_turns_errors_into_one_line(pets_pool, tmp_path, capsys):
    assert main(["split", str(pets_pool), str(pets_pool / "x"), "--train", "1"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert isinstance(SplitError("x"), ConvlensError)


def test_bad_options_are_config_errors(monkeypatch, tmp_path):
    from convlens.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotAnImageFolder, match="IDX files"):
        resolve_dataset("mnist", progress=False)
    with pytest.raises(ConfigError, match="interpolation"):
        resolve_dataset("pets-mini", interpolation="cubic", progress=False)
    with pytest.raises(ConfigError, match="channels"):
        resolve_dataset("pets-mini", channels=4, progress=False)
    with pytest.raises(ConfigError, match="either per-class counts"):
        split_pool("pets-mini", tmp_path / "o", counts=(1, 1, 1), fractions=(0.5, 0.5, 0))
    with pytest.raises(ConfigError, match="--link"):
        split_pool("pets-mini", tmp_path / "o", counts=(1, 1, 1), link="move")


def test_suspicious_but_readable_files_are_listed_and_still_loaded(tmp_path, make_image):
    root = tmp_path / "sus"
    make_image(root / "a" / "really_png.jpg", fmt="PNG")
    make_image(root / "a" / "tiny.png", size=(1, 1))
    make_image(root / "b" / "fine.jpg", size=(40, 40))
    info = dataset_info(root)
    reasons = {Path(s.path).name: s.reason for s in info.suspicious}
    assert "content is PNG" in reasons["really_png.jpg"] and "very small" in reasons["tiny.png"]
    assert info.unreadable == [] and info.splits["all"]["a"].count == 2
    assert len(resolve_dataset(root, image_size=8, progress=False).train) == 3


# --- the shared corpus (tests/_corpus.py): every kind through every data command -----------


# The CLI cannot print a non-UTF-8 file name yet (see _CLI_PRINTS_NAMES_RAW below): the CLI
# tests run on a corpus without that one kind, the library tests on the whole corpus.


def _corpus_fixture(leave_out=frozenset()):
    @pytest.fixture(scope="module")
    def built(tmp_path_factory):
        from _corpus import build_corpus, tree_digest

        corpus = build_corpus(tmp_path_factory.mktemp("bad"), leave_out)
        return corpus, tree_digest(corpus.root)

    return built


built_corpus = _corpus_fixture()
built_cli_corpus = _corpus_fixture()


def _unchanged(built):
    """The corpus; after the test, proof that not one byte, mode or link of it changed."""
    from _corpus import tree_digest

    corpus, digest = built
    yield corpus
    assert tree_digest(corpus.root) == digest, "a command modified the user's files"


@pytest.fixture
def bad(built_corpus):
    yield from _unchanged(built_corpus)


@pytest.fixture
def bad_cli(built_cli_corpus):
    yield from _unchanged(built_cli_corpus)


@pytest.fixture
def console_reset():
    """Rich keeps text it failed to encode in its buffer and re-raises on every later print;
    empty it so that one CLI failure cannot break the tests that follow."""
    from convlens._cli._console import console, err_console

    yield
    for con in (console, err_console):
        del con._buffer[:]


def _cli(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, text
    assert code in (0, 1), f"{args}: exit {code}\n{text}"
    return code, text


def _by_path(items) -> dict[str, str]:
    return {str(s.path): s.reason for s in items}


def test_the_corpus_has_at_least_forty_kinds(bad):
    kinds = [c.kind for c in bad.cases]
    assert len(kinds) == len(set(kinds)) >= 40
    assert {c.load for c in bad.file_cases()} == {"usable", "skipped", "ignored"}
    assert {c.load for c in bad.folder_cases()} == {"usable", "error"}
    assert all(c.path.exists() or c.path.is_symlink() or c.kind == "missing folder" for c in bad.cases)


def test_resolve_dataset_uses_or_reports_every_file_kind(bad, tmp_path):
    for attempt in ("decoded", "from the cache"):
        splits = resolve_dataset(bad.files_root, image_size=(12, 12), cache_dir=tmp_path, progress=False)
        kept, skipped = set(splits.train.paths), _by_path(splits.skipped)
        for case in bad.file_cases():
            where = f"{case.kind} ({attempt})"
            if case.load == "usable":
                assert str(case.path) in kept, where
            elif case.load == "skipped":
                assert case.reason in skipped.get(str(case.path), ""), (
                    f"{where}: {skipped.get(str(case.path))}"
                )
            else:
                assert str(case.path) not in kept and str(case.path) not in skipped, where
        usable = [c for c in bad.file_cases() if c.load == "usable"]
        assert len(splits.train) == len(bad.good) + len(usable)
        assert splits.train.images.shape[1:] == (12, 12, 3)


@pytest.mark.parametrize("cache", [False, True])
def test_load_images_decodes_or_skips_each_file_given_alone(bad, tmp_path, cache):
    from convlens.data import load_images

    cases = bad.file_cases()
    images, kept, skipped = load_images(
        [c.path for c in cases], (10, 10), cache_dir=tmp_path if cache else False, progress=False
    )
    assert images.shape == (len(kept), 10, 10, 3)
    reasons = _by_path(skipped)
    for i, case in enumerate(cases):
        if case.alone == "usable":
            assert i in kept, case.kind
        else:
            assert i not in kept and reasons.get(str(case.path)), case.kind


def test_data_info_lists_every_bad_file_kind(bad, capsys):
    info = dataset_info(bad.files_root)
    unreadable, listed = _by_path(info.unreadable), _by_path(info.unreadable + info.suspicious)
    for case in bad.file_cases():
        path = str(case.path)
        if case.load == "skipped":
            assert case.reason in listed.get(path, ""), f"{case.kind}: {listed.get(path)}"
        else:
            assert path not in unreadable, case.kind
    usable = [c for c in bad.file_cases() if c.load == "usable"]
    assert info.splits["all"]["a"].count == 3 + len(usable)


def test_cli_data_info_on_every_file_kind(bad_cli, capsys):
    for extra in ([], ["--json"]):
        code, text = _cli(capsys, "data", "info", bad_cli.files_root, *extra)
        assert code == 1 and "unreadable" in text  # unreadable files: exit 1, no traceback
        assert "pipe.jpg" in text and "latin1-\\udce9t\\udce9.jpg" in text  # a non-UTF-8 name, escaped


def test_cli_data_info_prints_a_non_utf8_name(bad, capsys, console_reset):
    code, text = _cli(capsys, "data", "info", bad.files_root, "--json")
    assert code == 1 and "latin1-" in text


def test_cli_shows_odd_names_literally(bad_cli, capsys):
    code, text = _cli(capsys, "data", "info", bad_cli.case("odd class names").path)
    assert code == 0 and "[bold]b" in text and "[bold]b [link=mailto:a@b.c]x/x.png" in text


def test_split_places_skips_or_ignores_every_file_kind(bad, tmp_path):
    dst = tmp_path / "out"
    result = split_pool(bad.files_root, dst, fractions=(1.0, 0.0, 0.0))
    skipped = _by_path(result.plan.skipped)
    for case in bad.file_cases():
        placed = dst / "train" / "a" / case.path.name
        if case.split == "placed":
            assert placed.is_file() and not placed.is_symlink(), case.kind
        else:
            assert not (placed.exists() or placed.is_symlink()), case.kind
        if case.split == "skipped":
            assert case.split_reason in skipped.get(str(case.path), ""), (
                f"{case.kind}: {skipped.get(str(case.path))}"
            )
    umask = os.umask(0)
    os.umask(umask)
    modes = {stat.S_IMODE(p.lstat().st_mode) for p in dst.rglob("*") if p.is_file()}
    assert modes == {0o666 & ~umask}  # plain files: no source modes, no setuid bits


def test_cli_split_of_every_file_kind(bad_cli, tmp_path, capsys):
    code, text = _cli(capsys, "split", bad_cli.files_root, tmp_path / "cli", "--fractions", "1,0,0")
    assert code == 0 and "outside SRC" in text and "broken symbolic link" in text


def test_every_folder_kind_loads_or_gives_its_typed_error(bad):
    for case in bad.folder_cases():
        if case.load == "usable":
            splits = resolve_dataset(case.path, image_size=8, progress=False)
            assert len(splits.train) > 0, case.kind
        else:
            with pytest.raises(case.error, match=re.escape(case.reason)):
                resolve_dataset(case.path, image_size=8, progress=False)


def test_every_folder_kind_splits_or_gives_its_typed_error(bad, tmp_path):
    for i, case in enumerate(bad.folder_cases()):
        dst = tmp_path / f"out{i}"
        if case.split == "usable":
            assert split_pool(case.path, dst, fractions=(1.0, 0.0, 0.0)).status == "written", case.kind
        else:
            with pytest.raises(case.split_error, match=re.escape(case.split_reason)):
                split_pool(case.path, dst, fractions=(1.0, 0.0, 0.0))
            assert not dst.exists(), case.kind


def test_cli_on_every_folder_kind_never_shows_a_traceback(bad_cli, tmp_path, capsys):
    for i, case in enumerate(bad_cli.folder_cases()):
        info_code, _ = _cli(capsys, "data", "info", case.path, "--json")
        split_code, _ = _cli(capsys, "split", case.path, tmp_path / f"o{i}", "--fractions", "0.5,0.5,0")
        assert split_code == (0 if case.split == "usable" else 1), case.kind
        if case.load == "usable":
            assert info_code == 0, case.kind


def test_augment_preview_of_every_file_kind(bad_cli, tmp_path, capsys):
    for i, case in enumerate(bad_cli.file_cases()):
        out = tmp_path / f"sheet{i}.png"
        code, text = _cli(capsys, "data", "augment-preview", case.path, "-o", out, "-n", "1", "--size", "16")
        assert code == (0 if case.alone == "usable" else 1), f"{case.kind}: {text}"
        assert out.exists() == (code == 0)


def test_an_unlistable_class_folder_is_a_data_error(split_folder, monkeypatch, tmp_path):
    real = Path.iterdir

    def locked(self):  # root lists everything: simulate what a normal user sees
        if self.name == "b" and self.parent.name == "train":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "iterdir", locked)
    with pytest.raises(DataError, match=r"cannot list folder .*train/b: permission denied"):
        resolve_dataset(split_folder, image_size=8, progress=False)
    with pytest.raises(DataError, match="permission denied"):
        dataset_info(split_folder)
    with pytest.raises(DataError, match="permission denied"):
        split_pool(split_folder / "train", tmp_path / "out", counts=(1, 0, 0))


def test_split_skips_a_file_it_cannot_read(pets_pool, tmp_path, monkeypatch):
    from convlens.data import split as split_module

    real = os.access
    monkeypatch.setattr(
        split_module.os, "access", lambda p, mode: Path(p).name != "dog.1901.jpg" and real(p, mode)
    )
    result = split_pool(pets_pool, tmp_path / "out", counts=(2, 0, 0))
    assert _by_path(result.plan.skipped) == {
        str(pets_pool / "dog.1901.jpg"): "permission denied (make the file readable)"
    }
    assert sorted(p.name for p in (tmp_path / "out/train/dog").iterdir()) == ["dog.1900.jpg", "dog.1902.jpg"]


def test_pool_files_named_without_a_class_word_keep_their_stem(tmp_path, make_image):
    from convlens.data.folders import class_of_pool_file

    assert [class_of_pool_file(Path(n)) for n in ("-5.jpg", "_5.jpg", "5.jpg", "cat.1.jpg")] == [
        "-5",
        "_5",
        "5",
        "cat",
    ]
    for name in ("-1.jpg", "-2.jpg"):
        make_image(tmp_path / "pool" / name)
    result = split_pool(tmp_path / "pool", tmp_path / "out", counts=(1, 0, 0))
    assert sorted(p.name for p in (tmp_path / "out/train").iterdir()) == ["-1", "-2"]
    assert result.plan.counts == {"train": {"-1": 1, "-2": 1}}
