"""The report of a REAL run (trained by convlens on photos of the shared pool, real Grad-CAM) in Chromium.

Offline (every request but the file itself aborted and counted: none), no console error, a confusion cell
clicked shows its photos and both overlays, accessible (headings in order, alt text), prints every gallery.
Screenshots go to $CONVLENS_TEST_ARTIFACTS (kept) or the test's temporary folder.
"""

from __future__ import annotations

import itertools
import json

from convlens import service

from .test_browser import assert_offline_and_clean, visible_images_loaded


def _cells(run):
    matrix = json.loads((run / "metrics_test.json").read_text())["confusion_matrix"]
    return [(i, j, n) for i, row in enumerate(matrix) for j, n in enumerate(row) if i != j and n]


def test_a_real_run_report_in_chromium(real_photo_run, offline_page, artifacts_dir):
    assert _cells(real_photo_run), "the 2-epoch run must err, so that a cell has images"
    result = service.report(service.ReportOptions([real_photo_run], cmap="viridis"))
    page = offline_page(result.path.resolve().as_uri())
    page.screenshot(path=artifacts_dir / "real-report-full.png", full_page=True)
    headings = page.evaluate(
        "() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])"
    )
    assert headings[0] == 1 and headings.count(1) == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(headings)), headings
    assert page.evaluate("() => [...document.images].filter(i => !i.alt).length") == 0
    assert page.evaluate("() => [...document.images].every(i => i.src.startsWith('data:'))")

    cell = page.locator("table.cm td.cm-off a").first
    target = cell.get_attribute("href")
    gallery = page.locator(target)
    assert not gallery.is_visible()
    cell.click()
    assert gallery.is_visible()
    count = int(cell.inner_text())
    assert visible_images_loaded(gallery) == 3 * min(
        count, 12
    )  # photo, Grad-CAM for predicted and true class
    alts = gallery.locator("img").evaluate_all("images => images.map(i => i.alt)")
    assert sum(a.startswith("Grad-CAM (viridis) of") for a in alts) == 2 * min(count, 12)
    gallery.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "real-report-cell.png")

    top = page.locator("#top-losses")
    top.scroll_into_view_if_needed()
    assert visible_images_loaded(top) == 2 * 16
    page.screenshot(path=artifacts_dir / "real-report-top-losses.png")

    page.emulate_media(media="print")
    galleries = page.locator(".cell-gallery")
    assert all(galleries.nth(k).is_visible() for k in range(galleries.count()))
    assert not page.locator("nav.toc").is_visible()
    assert page.locator("details.history table").is_visible()  # folded numbers print unfolded
    page.screenshot(path=artifacts_dir / "real-report-print.png", full_page=True)
    page.pdf(path=str(artifacts_dir / "real-report.pdf"))
    assert_offline_and_clean(page)
