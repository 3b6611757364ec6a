"""Run folders over real photos (copied from the read-only shared pool into tmp) for the report tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ._runs import EVIL_CLASS, EVIL_FILE, copy_photos, write_run

RAW = "dogs-vs-cats/raw"


@pytest.fixture(scope="session")
def book_photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """The book's test split: cat/dog ids 1500-1999, 1,000 photos under ``data/test/<class>/``."""
    from ..conftest import require_data

    raw = require_data(RAW)
    data = tmp_path_factory.mktemp("dogs-vs-cats")
    return data, copy_photos(raw, data, range(1500, 2000))


@pytest.fixture(scope="session")
def small_run(book_photos: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 photos (20 cats, 20 dogs), 30 epochs, 25 % wrong: the run the screenshots show."""
    data, paths = book_photos
    chosen = [p for p in paths if int(p.stem.split(".")[1]) < 1520]
    return write_run(
        tmp_path_factory.mktemp("runs") / "scratch", data, chosen, ["cat", "dog"], error_rate=0.25
    )


@pytest.fixture(scope="session")
def book_run(book_photos: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book's evaluation: 1,000 test photos, ~28 % wrong (the small convnet's ~72 %)."""
    data, paths = book_photos
    return write_run(tmp_path_factory.mktemp("runs") / "book", data, paths, ["cat", "dog"], error_rate=0.28)


@pytest.fixture
def evil_run(book_photos: tuple[Path, list[Path]], tmp_path: Path) -> Path:
    """A class named like an <img> injection and a photo named like a <script> injection."""
    _, paths = book_photos
    evil_data = tmp_path / "data"
    evil_photo = evil_data / EVIL_FILE
    evil_photo.parent.mkdir(parents=True)
    evil_photo.write_bytes(paths[0].read_bytes())
    photos = [evil_photo] + paths[500:507] + paths[:7]
    return write_run(
        tmp_path / "run<i onmouseover=alert(1)>",
        evil_data,
        photos,
        [EVIL_CLASS, "dog"],
        epochs=3,
        error_rate=0.5,
        extras=False,
    )


@pytest.fixture(scope="session")
def many_class_run(book_photos: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 classes (ImageNet's dog breeds) over the 1,000 photos, 30 % wrong, mostly into neighbouring classes."""
    from convlens.models.imagenet import labels

    data, paths = book_photos
    breeds = labels()[151:271]
    return write_run(
        tmp_path_factory.mktemp("runs") / "breeds", data, paths, breeds, error_rate=0.3, extras=False
    )


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bright dogs and dark cats (48 px), with one test photo of each class filed under the other."""
    from ._real import mislabelled_folder

    return mislabelled_folder(tmp_path_factory.mktemp("tiny") / "data")


@pytest.fixture(scope="session")
def real_run(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small convnet trained by convlens (64 px, 2 epochs, single-logit binary) and evaluated: it errs."""
    from ._real import private_caches, train_and_evaluate

    root = tmp_path_factory.mktemp("real-runs")
    with private_caches(root):
        return train_and_evaluate(tiny_data, root / "scratch")


@pytest.fixture(scope="session")
def features_run(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fast feature extraction on a (randomly initialised, offline) EfficientNet-Lite0 base, evaluated."""
    from ._real import private_caches, train_and_evaluate

    root = tmp_path_factory.mktemp("features-runs")
    with private_caches(root):
        return train_and_evaluate(
            tiny_data,
            root / "features",
            base="efficientnet_lite0",
            mode="features",
            pretrained=False,
            epochs=1,
        )


@pytest.fixture(scope="session")
def real_photo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small convnet on real photos of the shared pool (16 + 8 + 12 a class, 64 px, 2 epochs): it errs a lot,
    so its confusion cells have images to show."""
    from ..conftest import require_data
    from ._real import private_caches, train_and_evaluate

    raw = require_data(RAW)
    root = tmp_path_factory.mktemp("photo-runs")
    data = root / "dogs-vs-cats"
    for split, ids in (("train", range(16)), ("validation", range(1000, 1008)), ("test", range(1500, 1512))):
        for name in ("cat", "dog"):
            (data / split / name).mkdir(parents=True)
            for i in ids:
                shutil.copyfile(raw / f"{name}.{i}.jpg", data / split / name / f"{name}.{i}.jpg")
    with private_caches(root):
        return train_and_evaluate(data, root / "cats-vs-dogs-64px", batch_size=8)
