"""What the HTTP API adds to the same service calls made in-process: Lite0 top-5 and Grad-CAM of a 500x375 JPEG.

    nice .venv/bin/python benchmarks/web_latency.py [--requests 40] [--concurrency 1 4]

In-process: the calls the endpoints make, on the file (``open_photo`` + ``classify``; ``open_photo`` +
``explain_photo`` + ``overlay_photo``), with one loaded model shared by the threads. API: the same photo uploaded
to ``POST /api/predict`` / ``POST /api/explain`` of a ``convlens serve`` subprocess on a free loopback port, from
as many client threads (one ``httpx.Client`` each). The API's answer also carries the overlay as a PNG data URI;
encoding it is timed in-process on its own and reported, and each API answer's ``Server-Timing`` (the wait
for a worker, the work in it: copy, decode, compute, encode) is reported as medians. Blocks of the two sides alternate, so that load from
other processes hits both; p50 and p95 of the per-request latency are printed with the machine load.
"""

from __future__ import annotations

import argparse
import base64
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
from _web import ELEPHANT, load, server

from convlens import service
from convlens.service import interactive
from convlens.web.render import png_stored


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def in_process(loaded: Any, kind: str) -> None:
    photo = interactive.open_photo(ELEPHANT)
    if kind == "predict":
        interactive.classify(loaded, photo, 5)
    else:
        [found] = interactive.explain_photo(loaded, photo, ["gradcam"])
        interactive.overlay_photo(photo, found.heatmap)


SERVER: list[tuple[float, float]] = []  # (queue, compute) ms of each API answer, from its Server-Timing header


def over_http(client: httpx.Client, url: str, kind: str, content: bytes) -> None:
    files = {"image": (ELEPHANT.name, content, "image/jpeg")}
    response = client.post(url + ("api/predict" if kind == "predict" else "api/explain"), files=files)
    response.raise_for_status()
    timing = dict(part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    SERVER.append((float(timing["queue"]), float(timing["compute"])))


def timed_block(work: Any, concurrency: int, requests: int) -> list[float]:
    """Per-request seconds of ``requests`` calls of ``work(worker)`` from ``concurrency`` threads."""

    def one(i: int) -> float:
        start = time.perf_counter()
        work(i % concurrency)
        return time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(requests)))


def png_seconds(loaded: Any, repeats: int = 10) -> float:
    photo = interactive.open_photo(ELEPHANT)
    [found] = interactive.explain_photo(loaded, photo, ["gradcam"])
    blended = interactive.overlay_photo(photo, found.heatmap)
    start = time.perf_counter()
    for _ in range(repeats):
        base64.b64encode(png_stored(blended))
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40, help="requests per side, kind and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--blocks", type=int, default=4, help="alternating blocks per side")
    args = parser.parse_args()
    print(f"start: {load()}")
    loaded = service.load_model()
    content = ELEPHANT.read_bytes()
    with server() as (url, _pid):
        clients = [httpx.Client(timeout=600) for _ in range(max(args.concurrency))]
        for kind in ("predict", "gradcam"):  # warm-up: both sides, both kinds
            timed_block(lambda w, k=kind: in_process(loaded, k), 1, 3)
            timed_block(lambda w, k=kind: over_http(clients[w], url, k, content), 1, 3)
        print(f"PNG + base64 of the 500x375 overlay: {png_seconds(loaded) * 1000:.1f} ms (part of the API's answer)")
        print("| kind | concurrency | in-process p50 / p95 ms | API p50 / p95 ms | API / in-process p50 | p95 | "
              "server: queue / compute p50 ms | load |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for kind in ("predict", "gradcam"):
            for concurrency in args.concurrency:
                local: list[float] = []
                remote: list[float] = []
                SERVER.clear()
                per_block = max(concurrency, args.requests // args.blocks)
                for _ in range(args.blocks):
                    local += timed_block(lambda w, k=kind: in_process(loaded, k), concurrency, per_block)
                    remote += timed_block(lambda w, k=kind: over_http(clients[w], url, k, content), concurrency, per_block)
                lp50, lp95 = percentile(local, 50), percentile(local, 95)
                rp50, rp95 = percentile(remote, 50), percentile(remote, 95)
                queue = float(np.median([q for q, _ in SERVER]))
                compute = float(np.median([c for _, c in SERVER]))
                print(
                    f"| {kind} | {concurrency} | {lp50:.0f} / {lp95:.0f} | {rp50:.0f} / {rp95:.0f} | "
                    f"{rp50 / lp50:.2f}× | {rp95 / lp95:.2f}× | {queue:.0f} / {compute:.0f} | {load()} |",
                    flush=True,
                )
        for client in clients:
            client.close()
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
