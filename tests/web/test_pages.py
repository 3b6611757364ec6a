"""The pages through TestClient: what each shows, the htmx fragments, downloads, jobs, escaping, the CSP."""

from __future__ import annotations

import base64
import io
import re
import time

import numpy as np
from PIL import Image

from .conftest import state_of, upload

HTMX = {"hx-request": "true"}


def finished(client, html: str, timeout: float = 120) -> str:
    """The fragment a job panel turns into (the panel itself when the answer was already the result)."""
    found = re.search(r'hx-get="/jobs/([\w-]+)/panel"', html)
    deadline = time.monotonic() + timeout
    while found and time.monotonic() < deadline:
        time.sleep(0.3)
        html = client.get(f"/jobs/{found.group(1)}/panel").text
        found = re.search(r'hx-get="/jobs/([\w-]+)/panel"', html)
    assert not found, "the job did not finish"
    return html


def test_start_page_is_explain(client):
    page = client.get("/", headers={"accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert 'type="file"' in html and 'id="dropzone"' in html and 'value="gradcam" checked' in html
    assert 'src="/static/htmx.min.js"' in html and "https://" not in html.split("<main")[1]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<option value="tiny">' in html  # runs are models too
    assert client.get("/static/htmx.min.js").text.startswith("var htmx=")
    assert "Zero-Clause BSD" in client.get("/static/htmx.LICENSE.txt").text


def test_explain_flow_with_another_class_and_downloads(client, elephant):
    first = finished(client, client.post("/explain", files=upload(elephant), data={"methods": ["gradcam", "layercam"]}).text)
    assert "African_elephant" in first and first.count('class="blend"') == 2
    photo_id = re.search(r'data-photo-id="([\w-]+)"', first).group(1)
    maps = re.findall(r'data-map="(data:image/png;base64,[^"]+)"', first)
    grey = Image.open(io.BytesIO(base64.b64decode(maps[0].split(",", 1)[1])))
    assert grey.mode == "L" and grey.size == (224, 224)
    again = finished(client, client.post("/explain", data={"photo": photo_id, "class": "n02504013", "methods": "gradcam"}).text)
    assert re.search(r'class <span class="class-name">Indian_elephant</span>', again)
    npy = re.search(r'href="(/explain/[\w-]+/[\w-]+\.npy)"', again).group(1)
    heatmap = np.load(io.BytesIO(client.get(npy).content))
    assert heatmap.shape == (224, 224) and heatmap.dtype == np.float32 and 0 <= heatmap.min() and heatmap.max() <= 1
    results = re.search(r'name="results" value="([^"]+)"', again).group(1)
    faith = client.post(f"/explain/{photo_id}/faithfulness", data={"results": results})
    assert faith.status_code == 200 and "Deletion AUC" in faith.text and "Indian_elephant" in faith.text


def test_model_options_list_classes_and_layers(client):
    options = client.get("/explain/options?model=tiny").text
    assert '<option value="cat">' in options and '<option value="conv2d_1">' in options


def test_errors_show_in_place_for_htmx(client):
    response = client.post("/explain", data={"methods": "gradcam"}, headers=HTMX)
    assert response.status_code == 422 and response.text.startswith('<p class="error" role="alert">')
    page = client.get("/runs/nope", headers={"accept": "text/html"})
    assert page.status_code == 404 and "<h1>Error 404</h1>" in page.text


def test_runs_page_and_run_report(client):
    runs = client.get("/runs").text
    assert '<a href="/runs/tiny">tiny</a>' in runs and "state-done" in runs
    report = finished(client, client.get("/runs/tiny").text)
    if "Confusion matrix" not in report:  # the page answered with the job panel: the report is cached now
        report = client.get("/runs/tiny").text
    assert "Confusion matrix" in report and "Training curves" in report
    cells = re.findall(r'<td class="cm-off"[^>]*><a href="#([\w-]+)"', report)
    assert cells, "the swapped test photos make off-diagonal cells"
    gallery = report.split(f'id="{cells[0]}"', 1)[1].split("</section>", 1)[0]
    assert gallery.count("<img") >= 3  # the photo and its Grad-CAM for the predicted and the true class
    assert report.count('class="no-image"') == 0


def test_compare_runs(client):
    page = client.get("/runs/compare?run=tiny&run=tiny-copy")
    assert page.status_code == 200 and "Curves of every run" in page.text and "tiny-copy" in page.text


def test_look_inside(client, elephant):
    fragment = client.post("/inside/activations", files=upload(elephant)).text
    grids = re.findall(r'data-url="(/inside/[\w-]+/\d+/)"', fragment)
    assert len(grids) == 8 and "stem" in fragment
    channel = client.get(grids[0] + "5.png")
    assert channel.status_code == 200 and Image.open(io.BytesIO(channel.content)).size == (224, 224)
    layers = client.get("/inside/layers?model=tiny").text
    assert '<option value="conv2d">' in layers
    first = finished(client, client.post("/inside/filters", data={"model": "tiny", "count": "8", "steps": "3"}).text)
    assert "filter patterns of layer" in first
    cached = client.post("/inside/filters", data={"model": "tiny", "count": "8", "steps": "3"}).text
    assert "from the cache" in cached


def test_data_page_thumbnails_augmentation_and_check(client):
    page = client.get("/data").text
    assert "<h2>train</h2>" in page and "<h3>cat <span" in page and page.count("<img") >= 3 * 2 * 6
    sheet = client.get("/data/augment?split=train&cls=dog&index=2&seed=0").text
    reroll = client.get("/data/augment?split=train&cls=dog&index=2&seed=1").text
    assert "dog.2.png" in sheet and "seed=1" in sheet and "Re-roll" in sheet
    assert re.search(r'src="([^"]+)"', sheet).group(1) != re.search(r'src="([^"]+)"', reroll).group(1)
    check = finished(client, client.post("/data/check").text)
    assert "Unreadable files (0)" in check


def test_predict_a_class_folder_as_a_job(client):
    page = client.get("/data").text
    assert page.count('hx-post="/data/predict"') == 6  # one per split and class
    done = finished(client, client.post("/data/predict", data={"split": "test", "cls": "cat", "model": "tiny"}).text)
    found = re.search(r"<strong>6</strong> photos of test/cat: <strong>(\d)</strong> predicted as cat", done)
    assert found and 0 <= int(found.group(1)) <= 6
    assert client.post("/data/predict", data={"split": "test", "cls": "horse"}).status_code == 422


def test_names_are_escaped(client, web_root):
    import shutil

    evil = web_root / "runs" / "<img src=x onerror=alert(1)>"
    shutil.copytree(web_root / "runs" / "tiny", evil)
    try:
        page = client.get("/runs").text
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    finally:
        shutil.rmtree(evil)
    assert len(state_of(client).photos) <= 8
