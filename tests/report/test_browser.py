"""The reports in a real browser (Chromium via Playwright): offline, script-free, clickable, and they look right.

Every request other than the file itself is aborted and counted; there must be none, and no console error.
Screenshots go to $CONVLENS_TEST_ARTIFACTS (kept) or the test's temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from convlens.report.html import (
    build_comparison,
    build_explanations,
    build_run_report,
    render_comparison,
    render_explanations,
    render_run_report,
)

from ._runs import EVIL_CLASS, EVIL_FILE, fake_overlays, write_explain_folder


def write_page(html: str, path: Path) -> str:
    path.write_text(html, encoding="utf-8")
    return path.resolve().as_uri()


def assert_offline_and_clean(page) -> None:
    assert page.log.problems() == {}, page.log.problems()


def visible_images_loaded(locator) -> int:
    """How many of the ``<img>`` under ``locator`` are visible and decoded (naturalWidth > 0)."""
    images = locator.locator("img")
    return sum(
        1
        for k in range(images.count())
        if images.nth(k).is_visible()
        and images.nth(k).evaluate("img => img.complete && img.naturalWidth > 0")
    )


def test_report_opens_offline_and_a_confusion_cell_shows_its_images(small_run, offline_page, artifacts_dir):
    url = write_page(
        render_run_report(build_run_report(small_run, overlays=fake_overlays)), small_run / "report.html"
    )
    page = offline_page(url)
    page.screenshot(path=artifacts_dir / "report-full.png", full_page=True)
    cell = page.locator("table.cm td.cm-off a").first
    target = cell.get_attribute("href")
    gallery = page.locator(target)
    assert not gallery.is_visible()  # galleries stay folded until their cell is clicked
    cell.click()
    assert page.evaluate("location.hash") == target
    assert gallery.is_visible()
    count = int(page.locator("table.cm td.cm-off a").first.inner_text())
    assert visible_images_loaded(gallery) == 3 * min(count, 12)  # photo + two overlays per image
    page.screenshot(path=artifacts_dir / "report-after-click.png")
    page.emulate_media(media="print")
    assert (
        page.locator(".cell-gallery").first.is_visible() and page.locator(".cell-gallery").last.is_visible()
    )
    assert_offline_and_clean(page)


def test_injected_names_stay_text_in_the_dom(evil_run, offline_page, artifacts_dir):
    html = render_run_report(build_run_report(evil_run, overlays=fake_overlays))
    page = offline_page(write_page(html, evil_run / "report.html"))
    dom = page.evaluate("""() => ({
        scripts: document.querySelectorAll('script').length,
        handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
        xImages: document.querySelectorAll('img[src="x"], img:not([src^="data:"])').length,
        italic: document.querySelectorAll('main i').length,
        text: document.body.innerText,
    })""")
    assert dom["scripts"] == 0 and dom["handlers"] == 0 and dom["xImages"] == 0 and dom["italic"] == 0
    assert EVIL_CLASS in dom["text"] and EVIL_FILE in dom["text"]
    page.screenshot(path=artifacts_dir / "evil-names.png", full_page=True)
    assert_offline_and_clean(page)


def test_120_classes_stay_readable(many_class_run, offline_page, artifacts_dir):
    view = build_run_report(many_class_run, overlays=fake_overlays)
    cells = view.evaluations[0].cells
    page = offline_page(write_page(render_run_report(view), many_class_run / "report.html"))
    table = page.locator("table.cm")
    assert table.locator("tbody tr").count() == 30
    box = table.bounding_box()
    assert box["width"] < 1280, "the compact table fits the window"
    table.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "confusion-120-classes.png")
    most, least = page.locator("details.pairs a").first, page.locator("details.pairs a").last
    most.click()
    true, pred = map(int, most.get_attribute("href").rsplit("-", 2)[1:])
    assert len(cells[(true, pred)].images) >= 1  # more cells than the image budget: one image each
    assert visible_images_loaded(page.locator(most.get_attribute("href"))) == 3 * len(
        cells[(true, pred)].images
    )
    page.screenshot(path=artifacts_dir / "confusion-120-classes-most-confused.png")
    least.click()
    # beyond the image budget a cell lists its files by name
    names = page.locator(least.get_attribute("href")).locator("li.file")
    assert names.count() == int(least.inner_text()) and names.first.is_visible()
    assert_offline_and_clean(page)


def test_comparison_and_explanations_open_offline(
    small_run, evil_run, book_photos, tmp_path, offline_page, artifacts_dir
):
    compare = write_page(
        render_comparison(build_comparison([small_run, evil_run])), tmp_path / "compare.html"
    )
    page = offline_page(compare)
    assert page.locator("svg.chart").count() == 2
    page.screenshot(path=artifacts_dir / "comparison.png", full_page=True)
    assert_offline_and_clean(page)

    _, paths = book_photos
    folder = write_explain_folder(tmp_path / "explain", paths[:2] + paths[500:502])
    page = offline_page(
        write_page(render_explanations(build_explanations(folder)), tmp_path / "explain.html")
    )
    assert visible_images_loaded(page.locator("section.explained")) == 4 * (1 + 3)  # the photo + 3 methods
    page.screenshot(path=artifacts_dir / "explanations.png", full_page=True)
    assert_offline_and_clean(page)


def test_the_harness_counts_requests_and_console_errors(tmp_path, offline_page):
    """A page that fetches must fail the checks above: the harness itself is tested."""
    leaky = write_page(
        '<!doctype html><html lang="en"><title>x</title><img alt="x" src="https://example.com/a.png">'
        '<link rel="stylesheet" href="other.css">',
        tmp_path / "leaky.html",
    )
    page = offline_page(leaky)
    assert any("example.com" in url for url in page.log.blocked)
    assert any(url.endswith("/other.css") for url in page.log.blocked)

    from convlens.report.html.render import CSP

    guarded = write_page(
        f'<!doctype html><html lang="en"><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<title>x</title><img alt="x" src="https://example.com/a.png">',
        tmp_path / "guarded.html",
    )
    page = offline_page(guarded)
    assert page.log.blocked == [] and any("Content Security Policy" in e for e in page.log.console_errors)
