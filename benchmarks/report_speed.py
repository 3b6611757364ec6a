"""The HTML report of the book's run: time and size, end to end and by part.

    nice .venv/bin/python benchmarks/report_speed.py [--run RUN] [--epochs 2] [--work /tmp/report-bench]

Without ``--run`` it splits the shared pool as the book does (1,000 / 500 / 500 a class, natural order), trains
the small convnet for ``--epochs`` epochs at 150 px (enough to leave errors in every confusion cell) and evaluates
it on the 1,000 test photos. Then it times ``convlens report RUN`` in a fresh process (imports included, what a
user waits for) and, in this process, its parts: reading the run and embedding the photos, the one batched
Grad-CAM pass (model loading included), rendering, writing. The goal: <= 60 s on 2 CPU cores and < 5 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "dogs-vs-cats" / "raw"


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def book_run(work: Path, epochs: int) -> Path:
    """Split, train and evaluate the book's run in ``work`` (each step skipped when already done)."""
    from convlens import service
    from convlens.train import TrainConfig

    split, run = work / "cats_and_dogs_small", work / "small_convnet"
    if not (split / "test").is_dir():
        service.split(service.SplitOptions(str(RAW), split, counts=(1000, 500, 500), order="natural"))
    if not (run / "metrics_test.json").is_file():
        start = time.perf_counter()
        service.train(
            TrainConfig(
                data=str(split),
                model="small_convnet",
                out=str(run),
                epochs=epochs,
                overwrite=True,
                progress=False,
            )
        )
        print(f"trained {epochs} epoch(s) in {time.perf_counter() - start:.0f} s (load {load()})")
        service.evaluate(service.EvaluateOptions(run, progress=False, refresh_report=False))
    return run


def end_to_end(run: Path, out: Path) -> tuple[float, float, int]:
    """``python -m convlens report RUN --out OUT`` in a fresh process: wall seconds, CPU seconds, bytes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "convlens", "report", str(run), "--out", str(out)],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, out.stat().st_size


class Clock:
    """Wall and CPU (all threads of this process) seconds of named parts."""

    def __init__(self) -> None:
        self.parts: dict[str, tuple[float, float]] = {}

    def time(self, name: str, fn, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        self.parts[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result


CAMS = "Grad-CAM pass (model load, batched CAMs, drawing)"


def parts(run: Path, out: Path) -> tuple[dict[str, tuple[float, float]], int]:
    """Wall and CPU seconds of each part of one report, in this process; the number of overlays."""
    from convlens._io import write_text_atomic
    from convlens.report.html import build_run_report, render_run_report
    from convlens.service.reporting import run_overlays

    clock, make, asked = Clock(), run_overlays(run, "jet"), []

    def overlays(requests):
        asked.extend(requests)
        return clock.time(CAMS, make, requests)

    view = clock.time(
        "build: read the run, choose and embed photos + overlays", build_run_report, run, overlays
    )
    build, cams = (
        clock.parts.pop("build: read the run, choose and embed photos + overlays"),
        clock.parts[CAMS],
    )
    clock.parts["build without the Grad-CAM pass"] = (build[0] - cams[0], build[1] - cams[1])
    html = clock.time("render (Jinja2, SVG charts)", render_run_report, view, {"cmap": "jet"})
    clock.time("write", write_text_atomic, out, html)
    return clock.parts, len(asked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an evaluated run folder (default: train the book's run)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/report-bench"))
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    import torch

    run = args.run or book_run(args.work, args.epochs)
    metrics = json.loads((run / "metrics_test.json").read_text())
    print(
        f"run {run}: test accuracy {metrics['accuracy']:.4f} on {metrics['count']} images, "
        f"matrix {metrics['confusion_matrix']}"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads; load before {load()}"
    )
    wall, cpu, size = end_to_end(run, args.work / "report.html")
    print(
        f"end to end, `convlens report` in a fresh process: wall {wall:.1f} s, CPU {cpu:.1f} s, "
        f"{size / 1e6:.2f} MB; load after {load()}"
    )
    timing, overlays = parts(run, args.work / "report-parts.html")
    for name, (wall, cpu) in timing.items():
        print(f"  {name}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    print(f"  ({overlays} overlays); load after the parts {load()}")


if __name__ == "__main__":
    main()
