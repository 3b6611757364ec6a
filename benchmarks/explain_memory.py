"""Resident memory while ``convlens explain`` streams a folder of 1,000 images (maps, overlays and figures).

    nice .venv/bin/python benchmarks/explain_memory.py [--images 1000] [--model small_convnet]

Writes random 200x150 JPEGs to a temporary folder, explains them one at a time with Grad-CAM (random
weights: memory does not depend on them) and prints the resident set size every 100 images. Flat = no leak.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from convlens.explain.run import ExplainConfig, explain_images
from convlens.service.sources import load_model


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        return int(next(line for line in fh if line.startswith("VmRSS")).split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--model", default="small_convnet")
    parser.add_argument("--method", default="gradcam")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(args.images):
            Image.fromarray(rng.integers(0, 255, (150, 200, 3), dtype=np.uint8)).save(src / f"{i:05d}.jpg")
        loaded = load_model(args.model, random_if_missing=True)
        config = ExplainConfig(src, Path(tmp) / "out", args.method.split(","), progress=False)
        start, samples = time.perf_counter(), []
        for i, _record in enumerate(explain_images(loaded, config), start=1):
            if i % 100 == 0:
                samples.append(rss_mib())
                print(
                    f"{i:5d} images  RSS {samples[-1]:7.1f} MiB  {i / (time.perf_counter() - start):5.1f} img/s"
                )
    growth = samples[-1] - samples[0]
    print(
        f"RSS growth from image 100 to {args.images}: {growth:+.1f} MiB ({growth / (args.images - 100) * 1024:.1f} KiB/image)"
    )


if __name__ == "__main__":
    main()
