"""``convlens serve`` as a user starts it: a subprocess on a free loopback port; concurrent clients get their own,
uncorrupted answers; a token given on the command line is required."""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from ._live import live_server, wait_healthy

PHOTOS = (
    "n02504458_African_elephant.JPEG",
    "n01531178_goldfinch.JPEG",
    "n01496331_electric_ray.JPEG",
    "n01667778_terrapin.JPEG",
)


@pytest.fixture(scope="module")
def server(web_root, tmp_path_factory):
    cache = tmp_path_factory.mktemp("serve-cache")
    with live_server("--runs", str(web_root / "runs"), "--data", str(web_root / "data"), cache=cache) as (url, lines):
        wait_healthy(url)
        yield url, lines


@pytest.fixture(scope="module")
def expected(shared_data_root):
    """Each photo's top-3 and Grad-CAM class, from the same service calls in this process."""
    from convlens import service
    from convlens.service import interactive

    loaded = service.load_model()
    answers = {}
    for name in PHOTOS:
        photo = interactive.open_photo(shared_data_root / name)
        answers[name] = (interactive.classify(loaded, photo, 3), photo.shape[1::-1])
    return answers


@pytest.fixture(scope="module")
def shared_data_root():
    from ..conftest import require_data

    return require_data("imagenet-sample")


def test_serve_prints_its_url_and_answers(server, web_root):
    url, lines = server
    assert url.startswith("http://127.0.0.1:") and "?token" not in url
    assert any(str(web_root / "runs") in line for line in lines)
    assert httpx.get(url + "api/runs").json()[0]["name"] in ("tiny", "tiny-copy")
    assert httpx.get(url + "healthz", headers={"host": "rebound.example"}).status_code == 403


def test_eight_concurrent_clients_get_their_own_answers(server, expected, shared_data_root):
    url, _ = server

    def ask(i: int) -> tuple[str, dict, dict]:
        name = PHOTOS[i % len(PHOTOS)]
        content = (shared_data_root / name).read_bytes()
        with httpx.Client(timeout=600) as client:
            top = client.post(url + "api/predict", files={"image": (name, content)}, data={"topk": "3"}).json()
            cam = client.post(url + "api/explain", files={"image": (name, content)}).json()
        return name, top, cam

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(8)))
    for name, top, cam in answers:
        want, size = expected[name]
        assert [t["label"] for t in top["top"]] == [t["label"] for t in want], name
        assert all(abs(a["prob"] - b["prob"]) < 1e-4 for a, b in zip(top["top"], want)), name
        assert cam["class"] == want[0]["label"], name
        overlay = Image.open(io.BytesIO(base64.b64decode(cam["overlay"].split(",", 1)[1])))
        assert overlay.size == tuple(size), name
        assert 0 <= cam["peak"][0] < size[0] and 0 <= cam["peak"][1] < size[1]


def test_a_token_given_on_the_command_line_is_required(web_root, tmp_path):
    with live_server("--runs", str(web_root / "runs"), "--token", "correct-horse-battery", cache=tmp_path) as (url, _):
        assert url.endswith("/?token=correct-horse-battery")
        base = url.split("?")[0]
        wait_healthy(url)
        assert httpx.get(base + "api/runs").status_code == 401
        assert httpx.get(base + "api/runs", headers={"authorization": "Bearer nope-nope-nope"}).status_code == 403
        with httpx.Client() as client:
            assert client.get(url).status_code == 200
            assert client.get(base + "api/runs").status_code == 200  # the cookie set by ?token=
