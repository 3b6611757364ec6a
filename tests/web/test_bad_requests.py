"""Bad input never gets a 5xx: each of these requests gets a 4xx with a JSON message that says what is wrong."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from .conftest import LOCAL

JSON_ERROR = "application/json"


def png_bytes(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def files(elephant: Path) -> dict[str, bytes]:
    jpeg = elephant.read_bytes()
    return {
        "jpeg": jpeg,
        "truncated": jpeg[: len(jpeg) // 3],
        "bomb": png_bytes((9000, 9000), "1"),  # 81 Mpx in a few kB: above the server's 50 Mpx
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        "text": b"a cat, honestly\n" * 10,
        "oversize": b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024),  # over the 2 MB limit of the test app
        "html": b"<html><script>alert(1)</script></html>",
    }


def photo(files, kind: str, name: str = "photo.jpg", media: str = "image/jpeg") -> dict:
    return {"image": (name, files[kind], media)}


def cases(files) -> list[tuple[str, str, str, dict, int]]:
    """``(what, method, path, request options, expected status)``."""
    jpeg = photo(files, "jpeg")
    return [
        ("no image field", "POST", "/api/predict", {"data": {"topk": "3"}}, 422),
        ("image sent as a text field", "POST", "/api/predict", {"data": {"image": "cat.jpg"}}, 422),
        ("a text file named .jpg", "POST", "/api/predict", {"files": photo(files, "text")}, 415),
        ("an SVG", "POST", "/api/predict", {"files": photo(files, "svg", "x.svg", "image/svg+xml")}, 415),
        ("HTML named .png", "POST", "/api/explain", {"files": photo(files, "html", "x.png", "image/png")}, 415),
        ("an empty file", "POST", "/api/predict", {"files": {"image": ("e.jpg", b"", "image/jpeg")}}, 400),
        ("a truncated JPEG", "POST", "/api/predict", {"files": photo(files, "truncated")}, 422),
        ("a decompression bomb", "POST", "/api/explain", {"files": photo(files, "bomb", "b.png", "image/png")}, 413),
        ("larger than the upload limit", "POST", "/api/predict", {"files": photo(files, "oversize")}, 413),
        ("unknown model", "POST", "/api/predict", {"files": jpeg, "data": {"model": "resnet9000"}}, 422),
        ("model name walking out of --runs", "POST", "/api/predict", {"files": jpeg, "data": {"model": "../../etc"}}, 422),
        ("model without pretrained weights", "POST", "/api/predict", {"files": jpeg, "data": {"model": "small_convnet"}}, 422),
        ("model name of 10,000 characters", "POST", "/api/predict", {"files": jpeg, "data": {"model": "m" * 10_000}}, 422),
        ("topk 0", "POST", "/api/predict", {"files": jpeg, "data": {"topk": "0"}}, 422),
        ("topk 10**30", "POST", "/api/predict", {"files": jpeg, "data": {"topk": str(10**30)}}, 422),
        ("topk not a number", "POST", "/api/predict", {"files": jpeg, "data": {"topk": "five"}}, 422),
        ("unknown method", "POST", "/api/explain", {"files": jpeg, "data": {"method": "gradcam9"}}, 422),
        ("unknown class", "POST", "/api/explain", {"files": jpeg, "data": {"class": "unicorn"}}, 422),
        ("class index out of range", "POST", "/api/explain", {"files": jpeg, "data": {"class": "5000"}}, 422),
        ("huge class index", "POST", "/api/explain", {"files": jpeg, "data": {"class": "9" * 60}}, 422),
        ("unknown layer", "POST", "/api/explain", {"files": jpeg, "data": {"layer": "block5_conv3"}}, 422),
        ("unknown colormap", "POST", "/api/explain", {"files": jpeg, "data": {"cmap": "rainbow"}}, 422),
        ("opacity 7", "POST", "/api/explain", {"files": jpeg, "data": {"opacity": "7"}}, 422),
        ("opacity NaN", "POST", "/api/explain", {"files": jpeg, "data": {"opacity": "nan"}}, 422),
        ("JSON instead of multipart", "POST", "/api/predict", {"json": {"image": "x"}}, 422),
        ("multipart with a broken body", "POST", "/api/predict",
         {"content": b"--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\nabc",
          "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, 422),  # no complete part: no image
        ("multipart without a boundary", "POST", "/api/predict",
         {"content": b"garbage", "headers": {"content-type": "multipart/form-data"}}, 400),
        ("GET on a POST endpoint", "GET", "/api/predict", {}, 405),
        ("DELETE on the runs list", "DELETE", "/api/runs", {}, 405),
        ("PUT on explain", "PUT", "/api/explain", {"files": jpeg}, 405),
        ("unknown run", "GET", "/api/runs/nope", {}, 404),
        ("run name with an encoded ../", "GET", "/api/runs/..%2F..%2Fetc", {}, 404),
        ("run name '..'", "GET", "/api/runs/%2E%2E", {}, 404),
        ("run page walking out", "GET", "/runs/..%2Fdata", {}, 404),
        ("unknown job", "GET", "/api/jobs/nope", {}, 404),
        ("cancel an unknown job", "POST", "/api/jobs/nope/cancel", {}, 404),
        ("picture of an unknown job", "GET", "/api/jobs/nope/result.png", {}, 404),
        ("static file outside the package", "GET", "/static/..%2F__init__.py", {}, 404),
        ("unknown static file", "GET", "/static/secret.txt", {}, 404),
        ("unknown path", "GET", "/etc/passwd", {}, 404),
        ("map of an unknown photo", "GET", "/explain/nope/nope.npy", {}, 404),
        ("channel of unknown activations", "GET", "/inside/nope/0/0.png", {}, 404),
        ("filter patterns of 100,000 filters", "POST", "/api/jobs/filters", {"data": {"count": "100000"}}, 422),
        ("filter patterns of an unknown layer", "POST", "/inside/filters", {"data": {"model": "tiny", "layer": "nope"}}, 200),
        ("augmentation of a photo that is not there", "GET", "/data/augment?split=train&cls=cat&index=999", {}, 422),
        ("augmentation with a negative seed", "GET", "/data/augment?split=train&cls=cat&index=0&seed=-1", {}, 422),
        ("comparing one run", "GET", "/runs/compare?run=tiny", {}, 400),
        ("explain page without a photo", "POST", "/explain", {"data": {"methods": "gradcam"}}, 422),
        ("explain page with a forgotten photo", "POST", "/explain", {"data": {"photo": "gone"}}, 422),
        ("explain page with 7 methods", "POST", "/explain",
         {"files": jpeg, "data": {"methods": ["gradcam", "cam", "eigencam", "xgradcam", "layercam", "hirescam", "gradcam++"]}}, 422),
    ]


def test_every_bad_request_gets_a_clear_4xx(client, files):
    checked = cases(files)
    assert len(checked) >= 25
    for what, method, path, options, expected in checked:
        response = client.request(method, path, **options)
        assert response.status_code == expected, f"{what}: {response.status_code} {response.text[:300]}"
        if expected >= 400:
            assert response.headers["content-type"].startswith(JSON_ERROR), what
            message = response.json()["error"]
            assert isinstance(message, str) and 8 <= len(message) <= 2000, f"{what}: {message!r}"
        else:  # a job that fails says so on the page, in place of its progress panel
            assert 'role="alert"' in response.text and "nope" in response.text, what


def test_messages_say_what_to_change(client, files):
    jpeg = photo(files, "jpeg")
    assert "resnet9000" in client.post("/api/predict", files=jpeg, data={"model": "resnet9000"}).json()["error"]
    layer = client.post("/api/explain", files=jpeg, data={"layer": "block5_conv3"}).json()["error"]
    assert "block5_conv3" in layer and "choose one of" in layer
    cls = client.post("/api/explain", files=jpeg, data={"class": "elefant"}).json()["error"]
    assert "unknown class" in cls
    method = client.post("/api/explain", files=jpeg, data={"method": "gradcam9"}).json()["error"]
    assert "gradcam" in method


def test_hostile_hosts_and_origins(client):
    assert client.get("/healthz", headers={"host": "evil.example"}).status_code == 403
    assert client.get("/api/runs", headers={"host": "127.0.0.1.evil.example:8000"}).status_code == 403
    assert client.get("/api/runs", headers={"host": ""}).status_code == 403
    assert client.get("/api/runs", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/api/runs", headers={"host": "[::1]:8000"}).status_code == 200
    cross = client.post("/api/jobs/filters", headers={"origin": "http://evil.example"})
    assert cross.status_code == 403 and "another site" in cross.json()["error"]
    assert client.post("/api/jobs/x/cancel", headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert client.post("/api/jobs/x/cancel", headers={"origin": LOCAL}).status_code == 404  # passes the guard


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    response = client.post("/api/predict", content=b"x" * 10, headers={"content-length": str(50 * 1024 * 1024),
                                                                         "content-type": "multipart/form-data; boundary=a"})
    assert response.status_code == 413


def test_token(app_settings, elephant):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from convlens.web import create_app

    settings = replace(app_settings, host="0.0.0.0", token=None)
    assert settings.token and len(settings.token) >= 24  # generated, as Jupyter does
    with TestClient(create_app(settings), base_url="http://192.168.1.20:8000") as remote:
        assert remote.get("/healthz").status_code == 200
        missing = remote.get("/api/runs")
        assert missing.status_code == 401 and "token" in missing.json()["error"]
        assert remote.get("/api/runs", headers={"authorization": "token wrong-token"}).status_code == 403
        assert remote.get("/api/runs", headers={"authorization": f"token {settings.token}"}).status_code == 200
        assert remote.get("/api/runs", headers={"x-convlens-token": settings.token}).status_code == 200
        first = remote.get(f"/runs?token={settings.token}")
        assert first.status_code == 200 and "convlens_token" in first.headers["set-cookie"]
        assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=Strict" in first.headers["set-cookie"]
        assert remote.get("/api/runs").status_code == 200  # the cookie carries it now
        assert remote.get("/api/runs", headers={"host": "evil.example:8000"}).status_code == 403
