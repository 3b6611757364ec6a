"""Loading: resolve_dataset layouts, EXIF, decode-once cache, MNIST IDX, built-ins, BatchLoader."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from convlens.data import ArrayDataset, Augmentation, BatchLoader, resolve_dataset
from convlens.data import cache as cache_module
from convlens.data.images import decode
from convlens.data.mnist import load_mnist


def test_split_folder_layout_labels_and_scaling(split_folder):
    splits = resolve_dataset(split_folder, image_size=(6, 8), progress=False)
    assert splits.classes == ["a", "b"] and splits.label_mode == "binary" and splits.num_outputs == 1
    assert [len(ds) for _, ds in splits.items()] == [8, 4, 4]
    assert splits.train.images.shape == (8, 6, 8, 3) and splits.train.images.dtype == np.uint8
    x, y = splits.train[0]
    assert x.shape == (3, 6, 8) and y == 0 and x[0].float().mean() > x[2].float().mean()  # class a is red
    grey = resolve_dataset(split_folder, image_size=4, channels=1, label_mode="categorical", progress=False)
    assert grey.train.images.shape == (8, 4, 4, 1) and grey.num_outputs == 2


def test_class_root_with_val_fraction_is_stratified(split_folder):
    splits = resolve_dataset(split_folder / "train", image_size=4, val_fraction=0.5, progress=False)
    assert splits.train.class_counts() == {"a": 2, "b": 2} == splits.validation.class_counts()
    assert splits.test is None
    assert set(splits.train.paths).isdisjoint(splits.validation.paths)


def test_pets_mini_builtin_is_60_20_20_per_class():
    splits = resolve_dataset("pets-mini", image_size=32, progress=False)
    assert splits.classes == ["cat", "dog"]
    assert [ds.class_counts()["dog"] for _, ds in splits.items()] == [60, 20, 20]
    assert splits.train.paths[0].endswith("cat.1900.jpg")


def test_digits_builtin_upscaled_real_digits():
    splits = resolve_dataset("digits", image_size=None, channels=1, progress=False)
    assert splits.train.images.shape[1:] == (28, 28, 1) and splits.label_mode == "categorical"
    assert sum(len(ds) for _, ds in splits.items()) == 1797
    rgb = resolve_dataset("digits", image_size=(32, 32), channels=3, progress=False)
    assert rgb.test.images.shape[1:] == (32, 32, 3) and rgb.test.images.max() > 200


def _write_idx(path, array, magic_type=0x08):
    header = bytes([0, 0, magic_type, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_mnist_idx_reader_gz_and_raw(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (5, 28, 28)), np.arange(5)
    for prefix, suffix in (("train", ".gz"), ("t10k", "")):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte{suffix}", images)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    data = load_mnist(tmp_path)
    assert np.array_equal(data["test"][0][..., 0], images) and data["train"][1].tolist() == [0, 1, 2, 3, 4]
    splits = resolve_dataset(tmp_path, image_size=None, channels=1, progress=False)
    assert len(splits.train) == 5 and splits.validation is None and splits.classes[9] == "9"


def test_shared_mnist(shared_data):
    splits = resolve_dataset(
        shared_data("mnist"), image_size=None, channels=1, val_fraction=0.1, progress=False
    )
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (54000, 6000, 10000)
    assert splits.test.images.shape == (10000, 28, 28, 1) and set(np.unique(splits.test.labels)) == set(
        range(10)
    )


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((10, 30, 3), np.uint8)
    arr[:, :15] = 255  # stored landscape, left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    Image.fromarray(arr).save(tmp_path / "r.jpg", exif=exif, quality=95)
    out = decode(tmp_path / "r.jpg", None)
    assert out.shape == (30, 10, 3)  # portrait once oriented
    assert out[:10].mean() > 200 and out[-10:].mean() < 50  # the white half is now on top


def test_cache_decodes_once_and_redecodes_changed_files(split_folder, monkeypatch, tmp_path, make_image):
    calls = []
    real = cache_module.decode

    def counting(path, *args, **kwargs):
        calls.append(os.path.basename(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(cache_module, "decode", counting)
    cache = tmp_path / "cache"
    first = resolve_dataset(split_folder, image_size=8, cache_dir=cache, progress=False)
    assert len(calls) == 16 and isinstance(first.train.images, np.memmap)
    calls.clear()
    again = resolve_dataset(split_folder, image_size=8, cache_dir=cache, progress=False)
    assert calls == [] and np.array_equal(again.train.images, first.train.images)
    changed = split_folder / "train" / "a" / "a1.png"
    make_image(changed, color=(0, 255, 0))
    os.utime(changed, ns=(1, 10**18))
    third = resolve_dataset(split_folder, image_size=8, cache_dir=cache, progress=False)
    assert calls == ["a1.png"]
    assert (
        third.train.images[1, :, :, 1].mean() > 120
        and third.train.images[1, :, :, 0].max() < 10
        and np.array_equal(third.train.images[0], first.train.images[0])
    )
    calls.clear()
    resolve_dataset(split_folder, image_size=10, cache_dir=cache, progress=False)
    assert len(calls) == 16  # another target size is another cache entry


def test_corrupt_cache_index_is_rebuilt(split_folder, tmp_path):
    cache = tmp_path / "cache"
    resolve_dataset(split_folder, image_size=8, cache_dir=cache, progress=False)
    for index in cache.rglob("index.json"):
        index.write_text("{not json")
    again = resolve_dataset(split_folder, image_size=8, cache_dir=cache, progress=False)
    assert len(again.train) == 8


def _toy(n=10, c=3):
    images = np.arange(n * 4 * 4 * c, dtype=np.int64).reshape(n, 4, 4, c) % 256
    return ArrayDataset(images.astype(np.uint8), np.arange(n) % 2, ["x", "y"])


def test_batch_loader_shapes_scaling_and_normalisation():
    ds = _toy()
    loader = BatchLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape[0] for b in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and x.shape == (4, 3, 4, 4)
    assert torch.allclose(x[1], torch.from_numpy(ds.images[1]).permute(2, 0, 1).float() / 255)
    norm, _ = next(iter(BatchLoader(ds, batch_size=4, mean=0.5, std=[0.5, 0.25, 0.5], channels_last=True)))
    assert torch.allclose(norm[:, 1], (x[:, 1] - 0.5) / 0.25)
    assert norm.is_contiguous(memory_format=torch.channels_last)
    assert len(BatchLoader(ds, batch_size=4, drop_last=True)) == 2


def test_batch_loader_shuffle_and_augment_follow_set_epoch():
    ds = _toy(12)
    loader = BatchLoader(ds, batch_size=12, shuffle=True, seed=5, augment=Augmentation.preset("book"))
    first = next(iter(loader))
    again = next(iter(loader))
    loader.set_epoch(1)
    other = next(iter(loader))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])
    assert sorted(first[1].tolist()) == sorted(ds.labels.tolist())


def test_batch_loader_validates_arguments():
    with pytest.raises(ValueError, match="channels"):
        BatchLoader(_toy(c=1), mean=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="batch_size"):
        BatchLoader(_toy(), batch_size=0)


def test_cache_clear_leaves_folders_it_did_not_make(split_folder, tmp_path, capsys, monkeypatch):
    from convlens.cli import main
    from convlens.data.cache_folders import MARKER, cache_entries

    cache = tmp_path / "cache"
    monkeypatch.setenv("CONVLENS_CACHE", str(cache))
    resolve_dataset(split_folder / "train", image_size=8, progress=False)  # one class root, one entry
    holiday = cache / "images" / "holiday_photos"
    holiday.mkdir()
    (holiday / "beach.jpg").write_bytes(b"sun")
    (cache / "images" / "notes.txt").write_text("mine")
    listing = cache_entries()
    [(entry, size)] = listing.entries
    assert (entry / MARKER).is_file() and listing.unmarked == [holiday] and listing.location == cache
    assert size == listing.total_bytes > (entry / "images.npy").stat().st_size
    (entry / "my-results.csv").write_text("a file a person put inside an entry")
    assert main(["data", "cache"]) == 0
    captured = capsys.readouterr()
    assert f"{cache}: 1 folder(s)" in captured.out and "left alone 1 folder(s)" in captured.err
    assert main(["data", "cache", "--clear"]) == 0
    assert "cleared 1 cache folder(s)" in capsys.readouterr().out
    assert (holiday / "beach.jpg").read_bytes() == b"sun" and (cache / "images" / "notes.txt").exists()
    assert sorted(p.name for p in entry.iterdir()) == ["my-results.csv"]  # only convlens's files went
    assert cache_entries().entries == []


def test_an_older_unmarked_entry_is_marked_when_reused(split_folder, tmp_path):
    from convlens.data.cache_folders import MARKER, cache_entries

    cache = tmp_path / "cache"
    resolve_dataset(split_folder, image_size=8, cache_dir=cache, progress=False)
    for marker in cache.rglob(MARKER):
        marker.unlink()
    assert len(cache_entries(cache).unmarked) == 3 and cache_entries(cache).entries == []
    resolve_dataset(split_folder, image_size=8, cache_dir=cache, progress=False)
    assert len(cache_entries(cache).entries) == 3


def test_cache_root_at_or_under_a_file_is_a_config_error(split_folder, tmp_path, monkeypatch, capsys):
    from convlens.cli import main
    from convlens.errors import ConfigError

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for root in (blocker, blocker / "sub"):
        with pytest.raises(ConfigError, match="a-file is a file, not a folder"):
            resolve_dataset(split_folder, image_size=8, cache_dir=root, progress=False)
        monkeypatch.setenv("CONVLENS_CACHE", str(root))
        for args in (["data", "cache"], ["data", "cache", "--clear"]):
            assert main(args) == 1
            err = capsys.readouterr().err
            assert "CONVLENS_CACHE" in err and "Traceback" not in err
    assert blocker.read_text() == "x"
    assert len(resolve_dataset(split_folder, image_size=8, cache_dir=False, progress=False).train) == 8


@pytest.mark.parametrize("size", [(100_000, 100_000), (0, 8), (-3, -3), (8, 2.5)])
def test_absurd_image_sizes_are_config_errors(split_folder, tmp_path, size):
    from convlens.errors import ConfigError

    with pytest.raises(ConfigError, match="image size|--image-size"):
        resolve_dataset(split_folder, image_size=size, cache_dir=tmp_path / "c", progress=False)
    assert not (tmp_path / "c").exists()


def test_decoded_images_must_fit_the_disk_or_the_memory(split_folder, tmp_path, monkeypatch):
    from collections import namedtuple

    from convlens.data import room
    from convlens.errors import ConfigError

    monkeypatch.setattr(room, "available_memory", lambda: 2 * 64 * 64 * 3)  # room for 1 of 8
    with pytest.raises(
        ConfigError, match=r"8 images at 64x64x3 need 98.3 KB, more than 50% of the free memory"
    ):
        resolve_dataset(split_folder, image_size=64, cache_dir=False, progress=False)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(room.shutil, "disk_usage", lambda _: usage(10**6, 10**6 - 1000, 1000))
    with pytest.raises(
        ConfigError, match=r"need 98.3 KB, more than the free disk space .*smaller --image-size"
    ):
        resolve_dataset(split_folder, image_size=64, cache_dir=tmp_path / "c", progress=False)
    assert not list((tmp_path / "c").rglob("*.npy"))
