"""Resident memory of a ``convlens serve`` over 1,000 predict + Grad-CAM requests, and 8 concurrent clients.

    nice .venv/bin/python benchmarks/web_memory.py [--requests 1000] [--clients 2]

A ``convlens serve`` subprocess on a free loopback port (nothing else is contacted). After a warm-up of 50
requests, ``--requests`` requests (half ``POST /api/predict``, half ``POST /api/explain``, over photos of several
sizes from ``shared/data/imagenet-sample``) are sent by ``--clients`` threads; the server's resident memory
(with any child processes) is sampled every 100 requests. Goal: it grows less than 5 % after the warm-up.

Then 8 clients at once each send a different photo, twice over; every answer must equal the same service
calls made in this process (top-3 labels and probabilities, the explained class, an overlay of the photo's size).
"""

from __future__ import annotations

import argparse
import base64
import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _web import ELEPHANT, load, rss_mib, server
from PIL import Image

PHOTOS = sorted(ELEPHANT.parent.glob("*.JPEG"))[:16]


def ask(client: httpx.Client, url: str, i: int) -> dict:
    photo = PHOTOS[i % len(PHOTOS)]
    files = {"image": (photo.name, photo.read_bytes(), "image/jpeg")}
    path = "api/predict" if i % 2 == 0 else "api/explain"
    response = client.post(url + path, files=files)
    response.raise_for_status()
    return response.json()


def burst(url: str, start: int, count: int, clients: int) -> None:
    with ThreadPoolExecutor(max_workers=clients) as pool:
        sessions = [httpx.Client(timeout=600) for _ in range(clients)]
        list(pool.map(lambda i: ask(sessions[i % clients], url, i), range(start, start + count)))
        for session in sessions:
            session.close()


def memory(url: str, pid: int, requests: int, clients: int) -> None:
    burst(url, 0, 50, clients)
    base = rss_mib(pid)
    print(f"after the warm-up (50 requests): RSS {base:.1f} MiB  ({load()})")
    begin = time.perf_counter()
    for done in range(100, requests + 1, 100):
        burst(url, done, 100, clients)
        rss = rss_mib(pid)
        rate = done / (time.perf_counter() - begin)
        print(f"{done:5d} requests  RSS {rss:7.1f} MiB ({(rss / base - 1) * 100:+.1f} %)  {rate:.1f} req/s  {load()}", flush=True)
    final = rss_mib(pid)
    verdict = "met" if final < base * 1.05 else "MISSED"
    print(f"growth after warm-up: {(final / base - 1) * 100:+.2f} % ({final - base:+.1f} MiB); goal < 5 %: {verdict}")


def expected_answers() -> dict[Path, tuple[list, str, tuple[int, int]]]:
    from convlens import service
    from convlens.service import interactive

    loaded = service.load_model()
    answers = {}
    for photo in PHOTOS[:8]:
        pixels = interactive.open_photo(photo)
        top = interactive.classify(loaded, pixels, 3)
        [found] = interactive.explain_photo(loaded, pixels, ["gradcam"])
        answers[photo] = (top, found.class_name, (pixels.shape[1], pixels.shape[0]))
    return answers


def concurrent_clients(url: str) -> None:
    want = expected_answers()

    def client(k: int) -> list[str]:
        photo = PHOTOS[k]
        problems = []
        with httpx.Client(timeout=600) as session:
            for _ in range(2):
                files = {"image": (photo.name, photo.read_bytes(), "image/jpeg")}
                top = session.post(url + "api/predict", files=files, data={"topk": "3"}).json()["top"]
                cam = session.post(url + "api/explain", files=files).json()
                labels, cls, size = want[photo]
                if [t["label"] for t in top] != [t["label"] for t in labels]:
                    problems.append(f"{photo.name}: top-3 {top} != {labels}")
                if any(abs(a["prob"] - b["prob"]) > 1e-4 for a, b in zip(top, labels)):
                    problems.append(f"{photo.name}: probabilities differ")
                overlay = Image.open(io.BytesIO(base64.b64decode(cam["overlay"].split(",", 1)[1])))
                if cam["class"] != cls or overlay.size != size:
                    problems.append(f"{photo.name}: explained {cam['class']} at {overlay.size}, want {cls} at {size}")
        return problems

    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = [p for found in pool.map(client, range(8)) for p in found]
    print(f"8 concurrent clients x 2 rounds: {32 - len(problems)} of 32 answers correct ({load()})")
    for problem in problems:
        print("  ", problem)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    print(f"start: {load()}")
    with server() as (url, pid):
        memory(url, pid, args.requests, args.clients)
        concurrent_clients(url)
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
