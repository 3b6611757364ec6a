"""The app in Chromium (Debian's, driven by playwright) against a live ``convlens serve``: explain the elephant,
switch method and class and colormap, open a run and a confusion cell, look inside, the data page. No page
errors, and no request leaves the machine. Screenshots go to the artefacts folder."""

from __future__ import annotations

import time

import pytest

from ._live import live_server, open_app, wait_healthy

TIMEOUT_MS = 240_000  # a loaded 2-core machine explains the elephant in seconds, sometimes much more


@pytest.fixture(scope="module")
def origin(web_root, tmp_path_factory):
    cache = tmp_path_factory.mktemp("browser-cache")
    with live_server("--runs", str(web_root / "runs"), "--data", str(web_root / "data"), cache=cache) as (url, _):
        wait_healthy(url)
        yield url.rstrip("/")


def wait_until(page, script: str, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    """Poll ``script`` (a function) until it returns true. (``wait_for_function`` compiles its predicate
    with ``eval`` in the page, which the app's Content-Security-Policy forbids.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        time.sleep(0.1)


def no_problems(page) -> None:
    assert page.log.problems() == {}, page.log.problems()


def explained(browser, origin, photo, shows: str):
    """The Explain page after uploading ``photo``, once its top-k lists ``shows``."""
    page = open_app(browser, origin)
    page.set_default_timeout(TIMEOUT_MS)
    page.set_input_files("#image", str(photo))
    page.click("button[type=submit]")
    page.wait_for_selector(f".top-k >> text={shows}")
    return page


def test_explain_the_elephant(browser, origin, elephant, artifacts_dir):
    page = explained(browser, origin, elephant, "African_elephant")
    page.wait_for_selector("img.blend[data-blended^='jet@']")
    width = page.eval_on_selector("img.blend", "img => img.naturalWidth")
    assert width == 500  # the blend is drawn at the photo's size (500x375)
    assert page.eval_on_selector("a.download-overlay", "a => a.href").startswith("data:image/png")
    page.screenshot(path=str(artifacts_dir / "explain-elephant.png"), full_page=True)

    # another method and another class, on the photo already on the server (no new upload)
    page.uncheck("input[value=gradcam]")
    page.check("input[value='gradcam++']")
    page.check("input[value=eigencam]")
    page.fill("#class", "Indian_elephant")
    page.click("button[type=submit]")
    page.wait_for_selector("figcaption:has-text('gradcam++') >> text=Indian_elephant")
    wait_until(page, "() => document.querySelectorAll('img.blend[data-blended^=\"jet@\"]').length == 2")
    captions = page.locator(".overlay-figure figcaption strong").all_inner_texts()
    assert sorted(captions) == ["eigencam", "gradcam++"]

    # colormap and opacity change in the browser, without asking the server
    requests_before = len(page.log.blocked)
    page.select_option("#cmap", "viridis")
    page.fill("#opacity", "0.7")
    page.dispatch_event("#opacity", "input")
    wait_until(page, "() => [...document.querySelectorAll('img.blend')].every(i => i.dataset.blended === 'viridis@0.7')")
    assert len(page.log.blocked) == requests_before
    page.screenshot(path=str(artifacts_dir / "explain-indian-elephant-viridis.png"), full_page=True)

    # faithfulness on request
    page.click("text=Faithfulness of these maps")
    page.wait_for_selector(".faithfulness-table >> text=Deletion AUC")
    no_problems(page)


def test_pick_a_class_from_the_top_k(browser, origin, elephant, artifacts_dir):
    page = explained(browser, origin, elephant, "water_buffalo")
    page.click("tr:has-text('water_buffalo') button[data-explain-class]")
    page.wait_for_selector(".overlay-figure .class-name:text-is('water_buffalo')")
    page.wait_for_selector("img.blend[data-blended]")
    no_problems(page)


def test_open_a_run_and_a_confusion_cell(browser, origin, artifacts_dir):
    page = open_app(browser, origin, "/runs")
    page.set_default_timeout(TIMEOUT_MS)
    assert page.locator(".runs-table >> text=done").count() == 2
    page.screenshot(path=str(artifacts_dir / "runs.png"), full_page=True)
    page.click("a[href='/runs/tiny']")
    page.wait_for_selector("text=Confusion matrix")
    cell = page.locator("td.cm-off a").first
    target = cell.get_attribute("href")
    cell.click()
    gallery = page.locator(f"section{target}")
    gallery.wait_for(state="visible")
    images = gallery.locator("img")
    assert images.count() >= 3
    assert all(images.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(images.count()))
    page.screenshot(path=str(artifacts_dir / "run-confusion-cell.png"), full_page=True)
    no_problems(page)


def test_look_inside_and_data(browser, origin, elephant, artifacts_dir):
    page = open_app(browser, origin, "/inside")
    page.set_default_timeout(TIMEOUT_MS)
    page.set_input_files("#inside-image", str(elephant))
    page.click("#inside-form button[type=submit]")
    grid = page.locator("img.act-grid").first
    grid.wait_for()
    box = grid.bounding_box()
    grid.click(position={"x": box["width"] * 0.1, "y": box["height"] * 0.25})
    wait_until(page, "() => document.querySelector('#channel-view img').naturalWidth > 1")
    assert page.locator("#channel-view figcaption").inner_text().startswith("Layer stem, channel")
    page.screenshot(path=str(artifacts_dir / "look-inside.png"), full_page=False)
    no_problems(page)

    data = open_app(browser, origin, "/data")
    data.set_default_timeout(TIMEOUT_MS)
    data.locator(".thumbs button").first.click()
    data.wait_for_selector("text=Re-roll")
    data.click("text=Re-roll")
    data.wait_for_selector("text=seed 1")
    data.screenshot(path=str(artifacts_dir / "data.png"), full_page=True)
    no_problems(data)


def test_drop_a_photo_on_the_page(browser, origin, web_root):
    """Drag and drop: a photo dropped on the drop zone is explained (here with the tiny run's model)."""
    page = open_app(browser, origin)
    page.set_default_timeout(TIMEOUT_MS)
    page.select_option("#model", "tiny")
    photo = web_root / "data" / "test" / "dog" / "dog.3.png"
    transfer = page.evaluate_handle(
        """([name, bytes]) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
            return data;
        }""",
        [photo.name, list(photo.read_bytes())],
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    page.wait_for_selector(".explain-result h2:has-text('dog.3.png')")
    page.wait_for_selector("img.blend[data-blended^='jet@']")
    assert page.locator(".top-k th.label").first.inner_text().split()[0] in ("cat", "dog")
    no_problems(page)
