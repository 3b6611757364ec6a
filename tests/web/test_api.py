"""The JSON API through FastAPI's TestClient: predict, explain, runs, jobs; models loaded once; uploads removed."""

from __future__ import annotations

import base64
import fcntl
import io
import time

import numpy as np
from PIL import Image

from .conftest import state_of, upload


def decode_overlay(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_healthz_and_security_headers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_predict_the_elephant(client, elephant):
    response = client.post("/api/predict", files=upload(elephant), data={"topk": "3"})
    assert response.status_code == 200, response.text
    top = response.json()["top"]
    assert top[0]["label"] == "African_elephant" and top[0]["wnid"] == "n02504458"
    assert len(top) == 3 and 0.8 < top[0]["prob"] <= 1 and top[0]["prob"] >= top[1]["prob"] >= top[2]["prob"]
    assert response.headers["server-timing"].startswith("queue;dur=") and "compute;dur=" in response.headers["server-timing"]


def test_uncompressed_png_round_trip():
    from convlens.web.render import png_stored

    rng = np.random.default_rng(0)
    for array in (rng.integers(0, 256, (37, 53, 3), dtype=np.uint8), rng.integers(0, 256, (5, 9), dtype=np.uint8)):
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_stored(array)))), array)


def test_explain_overlay_at_the_photos_size_and_peak_on_the_elephant(client, elephant):
    response = client.post("/api/explain", files=upload(elephant))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["method"] == "gradcam" and body["class"] == "African_elephant" and body["class_index"] == 386
    overlay = decode_overlay(body["overlay"])
    assert overlay.size == Image.open(elephant).size == (500, 375)
    assert not np.array_equal(np.asarray(overlay.convert("RGB")), np.asarray(Image.open(elephant).convert("RGB")))
    # the herd stands along the shore, x 10-495 and y 150-240 in the photo (measured by eye); sky, trees and
    # water are elsewhere
    x, y = body["peak"]
    assert 10 <= x <= 495 and 150 <= y <= 240


def test_explain_another_class_method_and_layer(client, elephant):
    data = {"class": "Indian_elephant", "method": "gradcam++", "layer": "blocks.15", "cmap": "viridis"}
    response = client.post("/api/explain", files=upload(elephant), data=data)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["class"], body["method"], body["layer"]) == ("Indian_elephant", "gradcam++", "blocks.15")


def test_a_run_is_a_model(client, web_root):
    photo = web_root / "data" / "test" / "dog" / "dog.3.png"
    response = client.post("/api/predict", files=upload(photo, media="image/png"), data={"model": "tiny"})
    assert response.status_code == 200, response.text
    top = response.json()["top"]
    assert {t["label"] for t in top} == {"cat", "dog"} and top[0]["wnid"] == top[0]["label"]
    assert abs(sum(t["prob"] for t in top) - 1) < 1e-5


def test_models_are_loaded_once(client, elephant):
    cache = state_of(client).models
    client.post("/api/predict", files=upload(elephant))
    before = cache.loads
    for _ in range(3):
        assert client.post("/api/predict", files=upload(elephant), data={"topk": "1"}).status_code == 200
    assert cache.loads == before


def test_exif_orientation_is_applied(client, tmp_path):
    """A camera's portrait photo: stored landscape (40x20) with EXIF orientation 6 (rotate 90 degrees)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "portrait.jpg"
    Image.new("RGB", (40, 20), (200, 30, 30)).save(path, exif=exif)
    body = client.post("/api/explain", files=upload(path), data={"model": "tiny"}).json()
    assert decode_overlay(body["overlay"]).size == (20, 40)
    assert 0 <= body["peak"][0] < 20 and 0 <= body["peak"][1] < 40


def test_uploads_are_removed(client, elephant):
    client.post("/api/predict", files=upload(elephant))
    client.post("/api/predict", files={"image": ("x.txt", b"not an image", "text/plain")})
    assert list(state_of(client).uploads.iterdir()) == []


def test_runs_and_run_details(client):
    runs = {r["name"]: r for r in client.get("/api/runs").json()}
    assert set(runs) == {"tiny", "tiny-copy"}
    tiny = runs["tiny"]
    assert (tiny["model"], tiny["mode"], tiny["state"], tiny["epochs_done"]) == ("mnist_cnn", "scratch", "done", 3)
    assert tiny["test_acc"] is not None and tiny["evaluated"] == ["test"]
    details = client.get("/api/runs/tiny").json()
    assert details["config"]["classes"] == ["cat", "dog"] and len(details["history"]) == 3
    assert details["metrics"]["test"]["count"] == 12


def test_a_run_is_training_while_its_lock_is_held(client, web_root):
    with open(web_root / "runs" / "tiny-copy" / ".convlens.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        states = {r["name"]: r["state"] for r in client.get("/api/runs").json()}
        assert states == {"tiny": "done", "tiny-copy": "training"}
        live = client.get("/runs/tiny-copy/curves")
        assert live.status_code == 200 and 'hx-trigger="every 2s"' in live.text
        fcntl.flock(lock, fcntl.LOCK_UN)
    # the lookup never takes the lock: a trainer can take it right after
    with open(web_root / "runs" / "tiny-copy" / ".convlens.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert {r["name"]: r["state"] for r in client.get("/api/runs").json()}["tiny-copy"] == "done"
    done = client.get("/runs/tiny-copy/curves")
    assert done.status_code == 286 and "hx-trigger" not in done.text


def wait_for(client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_filter_patterns_job_with_progress_and_picture(client):
    started = client.post("/api/jobs/filters", data={"model": "tiny", "count": "16", "steps": "4"})
    assert started.status_code == 202, started.text
    job = wait_for(client, started.json()["id"])
    assert job["state"] == "done" and job["fraction"] == 1.0
    assert job["progress"][0]["total"] == 2 and job["progress"][0]["completed"] == 2  # 16 filters, 8 a step
    picture = client.get(started.json()["result"])
    assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size[0] > 64


def test_cancel_a_job(client):
    state = state_of(client)
    blocker = state.jobs.submit("test", "keeps the worker busy", lambda reporter: time.sleep(1.5) or {"html": ""})
    queued = client.post("/api/jobs/filters", data={"model": "tiny", "count": "64", "steps": "50"}).json()
    cancelled = client.post(f"/api/jobs/{queued['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert wait_for(client, blocker.id)["state"] == "done"
    assert client.get(f"/api/jobs/{queued['id']}").json()["state"] == "cancelled"


def test_a_running_job_stops_at_its_next_step(client):
    from convlens.errors import Cancelled

    state = state_of(client)
    steps = []

    def work(reporter):
        bar = reporter.task("counting", total=100)
        for i in range(100):
            time.sleep(0.02)
            steps.append(i)
            bar.advance()
        return {"html": ""}

    job = state.jobs.submit("test", "counting", work)
    while not steps:
        time.sleep(0.01)
    state.jobs.cancel(job.id)
    assert wait_for(client, job.id)["state"] == "cancelled" and len(steps) < 100
    assert issubclass(Cancelled, Exception)


def test_openapi_and_offline_docs(client):
    spec = client.get("/openapi.json").json()
    documented = {"/api/predict", "/api/explain", "/api/runs", "/api/runs/{name}", "/api/jobs/{job_id}", "/api/jobs/filters"}
    assert documented <= set(spec["paths"]) and not any(p.startswith(("/runs", "/inside")) for p in spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/explain" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
