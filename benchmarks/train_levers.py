"""What ``--prefetch`` and ``--compile`` buy a training run of the seed's augmented small convnet (issue #13).

Each configuration is a fresh ``python -m convlens train`` process on the same split (decoded once beforehand, so
decoding is not in the figures): start-up, compile (if any), training and validation are all in the wall time.
``--compile`` runs twice: first with an empty kernel cache (``<cache>/inductor``), then again with the kernels the
first run left there, which is what the second run of a user gets.

    nice .venv/bin/python benchmarks/train_levers.py                 # 300/50/50 cats and dogs per class, 3 epochs
    nice .venv/bin/python benchmarks/train_levers.py --per-class 1000 500 500 --epochs 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from time_to_accuracy import timed  # this folder is on sys.path when a benchmark runs as a script

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared/data/dogs-vs-cats/raw"
COMMON = (
    "--model small_convnet --augment book --dropout 0.5 --image-size 150 --batch-size 64 --optimizer adam"
)
CONFIGS = {
    "eager, no prefetch": ["--prefetch", "0"],
    "eager, --prefetch 1": ["--prefetch", "1"],
    "--compile, cold kernel cache": ["--prefetch", "1", "--compile"],
    "--compile, warm kernel cache": ["--prefetch", "1", "--compile"],
}


def train(split: Path, out: Path, extra: list[str], epochs: int, env: dict[str, str]) -> dict:
    cmd = [sys.executable, "-m", "convlens", "train", str(split), "--out", str(out), *COMMON.split()]
    wall_s, cpu_s = timed([*cmd, "--epochs", str(epochs), "--no-progress", "--overwrite", *extra], env)
    history = json.loads((out / "history.json").read_text())
    return {
        "wall_s": round(wall_s, 1),
        "cpu_s": round(cpu_s, 1),
        "loss_last": round(history[-1]["loss"], 4),
        "load": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-class", type=int, nargs=3, default=[300, 50, 50], metavar=("TRAIN", "VAL", "TEST")
    )
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    from convlens.data.split import split_pool

    print(
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, threads {os.environ.get('OMP_NUM_THREADS', 'default')}"
    )
    with tempfile.TemporaryDirectory(prefix="levers-") as name:
        tmp = Path(name)
        split_pool(DATA, tmp / "split", counts=tuple(args.per_class), link="symlink")
        env = {**os.environ, "CONVLENS_CACHE": str(tmp / "cache")}
        env.pop("TORCHINDUCTOR_CACHE_DIR", None)
        train(tmp / "split", tmp / "warmup", ["--prefetch", "0"], 1, env)  # decodes the photos once
        rows = {}
        for label, extra in CONFIGS.items():
            if label.endswith("cold kernel cache"):
                shutil.rmtree(tmp / "cache" / "inductor", ignore_errors=True)
            rows[label] = train(tmp / "split", tmp / "run", extra, args.epochs, env)
            print(f"{label:32s} {json.dumps(rows[label])}", flush=True)
    base = rows["eager, no prefetch"]["wall_s"]
    for label, row in rows.items():
        print(f"| {label} | {row['wall_s']} s | {row['cpu_s']} s | {base / row['wall_s']:.2f}x |")


if __name__ == "__main__":
    main()
