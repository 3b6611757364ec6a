"""Shared by the web benchmarks: a live ``convlens serve`` in a subprocess on a free loopback port, the machine
load, the resident memory of a process and its children."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's convlens, also where another one is installed in the venv
ELEPHANT = REPO.parent / "shared" / "data" / "imagenet-sample" / "n02504458_African_elephant.JPEG"


def load() -> str:
    """The load averages (1, 5, 15 min) and the core count, as printed next to every figure."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its child processes, in MiB."""
    total = 0.0
    for proc in [pid, *children(pid)]:
        try:
            with open(f"/proc/{proc}/status") as fh:
                total += int(next(line for line in fh if line.startswith("VmRSS")).split()[1]) / 1024
        except (OSError, StopIteration):
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    kids = [int(p) for p in found]
    return kids + [g for k in kids for g in children(k)]


@contextmanager
def server(*args: str) -> Iterator[tuple[str, int]]:
    """``(base url, pid)`` of ``convlens serve --port 0 ARGS`` (loopback only), stopped on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "convlens", "serve", "--port", "0", "--runs", str(REPO / "runs"), *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 300
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line and process.poll() is not None:
                raise RuntimeError("convlens serve exited before it listened")
            match = re.search(r"http://127\.0\.0\.1:\d+/", line)
            url = match.group() if match else None
        if url is None:
            raise RuntimeError("convlens serve did not start within 300 s")
        while httpx.get(url + "healthz", timeout=30).status_code != 200:
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
