"""Fixtures of the web tests: a tiny trained and evaluated run, the app under TestClient, the elephant photo."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..train.conftest import make_image_folder

ELEPHANT = "imagenet-sample/n02504458_African_elephant.JPEG"
LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="session")
def web_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``root/data`` (cat/dog, 6 a class a split, two test photos swapped so the run gets them wrong) and
    ``root/runs/tiny`` (mnist_cnn at 32 px, 3 epochs, evaluated on test) plus a copy ``root/runs/tiny-copy``."""
    from convlens import service
    from convlens.train.config import TrainConfig

    root = tmp_path_factory.mktemp("web")
    data = make_image_folder(root / "data", per_class=6)
    cat, dog = data / "test" / "cat" / "cat.0.png", data / "test" / "dog" / "dog.0.png"
    swap = root / "swap.png"
    cat.rename(swap)
    dog.rename(cat)
    swap.rename(dog)
    run = root / "runs" / "tiny"
    config = TrainConfig(
        data=str(data), model="mnist_cnn", out=str(run), image_size=32, batch_size=4, epochs=3, lr=1e-3, progress=False
    )
    service.train(config)
    service.evaluate(service.EvaluateOptions(run=run, split="test", progress=False))
    shutil.copytree(run, root / "runs" / "tiny-copy")
    return root


@pytest.fixture(scope="session")
def elephant() -> Path:
    from ..conftest import require_data

    return require_data(ELEPHANT)


@pytest.fixture(scope="module")
def app_settings(web_root: Path):
    from convlens.web import WebSettings

    return WebSettings(runs=web_root / "runs", data=str(web_root / "data"), max_upload=2 * 1024 * 1024)


@pytest.fixture(scope="module")
def client(app_settings) -> Iterator:
    """The app (Lite0, the tiny runs, a 2 MB upload limit) under FastAPI's TestClient, on a loopback name."""
    from fastapi.testclient import TestClient

    from convlens.web import create_app

    with TestClient(create_app(app_settings), base_url=LOCAL) as test_client:
        yield test_client


def state_of(client):
    return client.app.state.convlens


def upload(path: Path, name: str | None = None, media: str = "image/jpeg") -> dict:
    return {"image": (name or path.name, path.read_bytes(), media)}
