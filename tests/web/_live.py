"""A live ``convlens serve`` on a free loopback port, in a subprocess, and pages that may fetch only from it."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._browser import PageLog

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def live_server(*args: str, cache: Path, startup_s: float = 240) -> Iterator[tuple[str, list[str]]]:
    """``(url, output lines)`` of ``convlens serve --port 0 ARGS``; the server is stopped on exit."""
    env = {**os.environ, "CONVLENS_CACHE": str(cache), "TORCH_HOME": str(cache / "torch")}
    command = [sys.executable, "-m", "convlens", "serve", "--port", "0", *args]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line.rstrip())
            match = re.search(r"http://\S+", line)
            if match:
                found.put(match.group())

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            url = found.get(timeout=startup_s)
        except queue.Empty:
            raise AssertionError(f"convlens serve did not start: {lines}") from None
        yield url, lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_healthy(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url.split("?")[0] + "healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} is not healthy")


def open_app(browser: Any, origin: str, path: str = "/", viewport: tuple[int, int] = (1280, 900)) -> Any:
    """A page at ``origin + path`` that may fetch from ``origin`` only; every other request is aborted and
    recorded in ``page.log`` (a :class:`tests._browser.PageLog`), with console errors and page errors."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    log = PageLog()

    def route(handled: Any) -> None:
        url = handled.request.url
        if url.startswith((origin + "/", "data:", "blob:")):
            handled.continue_()
        else:
            log.blocked.append(url)
            handled.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))
    page.on("dialog", lambda dialog: (log.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(origin + path, wait_until="load")
    page.log = log
    return page
