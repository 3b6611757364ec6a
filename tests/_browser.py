"""Headless Chromium for browser tests: Debian's ``/usr/bin/chromium`` driven by PyPI ``playwright``.

Never ``playwright install``: the browser is the distribution's (``make test`` installs it when missing). Under CI
(``CI=true``) a missing browser or playwright is an error; elsewhere the test is skipped with a reason.

Fixtures (imported into ``tests/conftest.py``):
    browser: one Chromium for the session.
    offline_page: ``offline_page(url)`` opens ``url`` in a new page that aborts and records every request
        except ``url`` itself, and records console errors, page errors and dialogs (``page.log``).
    artifacts_dir: where screenshots go (``$CONVLENS_TEST_ARTIFACTS``, else a pytest temporary folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CONVLENS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_browser() -> None:
    """Fail under CI, skip elsewhere, when playwright or the Chromium binary is missing."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or `make test` as root)"
    if reason is not None:
        if _under_ci():
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class PageLog:
    """What a page did that an offline, script-free page must not do."""

    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def problems(self) -> dict[str, list[str]]:
        return {k: v for k, v in vars(self).items() if v}


def open_offline(browser: Any, url: str, viewport: tuple[int, int] = (1280, 900)) -> Any:
    """A new page at ``url`` where every other request is aborted and counted; ``page.log`` is a :class:`PageLog`."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, java_script_enabled=True
    )
    page = context.new_page()
    log = PageLog()

    def route(handled: Any) -> None:
        if handled.request.url == url:
            handled.continue_()
        else:
            log.blocked.append(handled.request.url)
            handled.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))
    page.on("dialog", lambda dialog: (log.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url, wait_until="load")
    page.log = log
    return page


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def offline_page(browser: Any) -> Iterator[Callable[..., Any]]:
    pages: list[Any] = []

    def _open(url: str, **kwargs: Any) -> Any:
        pages.append(open_offline(browser, url, **kwargs))
        return pages[-1]

    yield _open
    for page in pages:
        page.context.close()


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """``$CONVLENS_TEST_ARTIFACTS/<test name>`` when set (kept after the run), else the test's tmp folder."""
    root = os.environ.get("CONVLENS_TEST_ARTIFACTS")
    folder = Path(root) / request.node.name if root else tmp_path / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
