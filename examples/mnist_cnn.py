"""Seed 003: the small MNIST CNN (conv 32 same -> pool -> conv 64 same -> pool -> dense 10, 50,186 params).

Adam, batch 64, 20 % of the training digits held out for validation, as in the seed; then the test accuracy.

    nice .venv/bin/python examples/mnist_cnn.py --out runs/mnist_cnn [--epochs 10]

Target: >= 99 % test accuracy.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from convlens.train import TrainConfig, train
from convlens.train.evaluate import evaluate_run

REPO = Path(__file__).resolve().parents[1]
MODEL = "mnist_cnn"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/mnist")
    parser.add_argument("--out", type=Path, default=REPO / "runs/mnist_cnn")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    config = TrainConfig(
        data=str(args.data),
        model=MODEL,
        out=str(args.out),
        image_size=28,
        channels=1,
        batch_size=64,
        epochs=args.epochs,
        optimizer="adam",
        lr=1e-3,
        val_fraction=0.2,
        precision=args.precision,
        overwrite=True,
    )
    t0 = time.perf_counter()
    run = train(config)
    seconds = time.perf_counter() - t0
    test = evaluate_run(run.out, split="test", progress=False)
    summary = {
        "model": MODEL,
        "epochs": len(run.history),
        "wall_s": round(seconds, 1),
        "train_acc": run.last["acc"],
        "val_acc": run.last.get("val_acc"),
        "test_acc": test["accuracy"],
        "test_images": test["count"],
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
