"""Seed 003: the small MNIST CNN (conv 32 same -> pool -> conv 64 same -> pool -> dense 10, 50,186 params).

Adam 1e-3, batch 64, 20 % of the training digits held out for validation, 10 epochs, as in the seed; then a short
second phase from those weights at a tenth of the learning rate (a step decay, ``--decay-epochs``, 0 turns it
off); then the test accuracy of each phase.

    nice .venv/bin/python examples/mnist_cnn.py --out runs/mnist_cnn [--epochs 10] [--decay-epochs 2] [--seed 0]

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


def phase(options: dict, out: Path, **changes) -> dict:
    """Train one phase and evaluate it on the test digits."""
    t0 = time.perf_counter()
    run = train(TrainConfig(**{**options, **changes, "out": str(out)}))
    seconds = time.perf_counter() - t0
    test = evaluate_run(run.out, split="test", progress=False)
    return {
        "out": str(out), "epochs": len(run.history), "lr": run.config.lr, "wall_s": round(seconds, 1),
        "train_acc": run.last["acc"], "val_acc": run.last.get("val_acc"), "test_acc": test["accuracy"],
        "test_images": test["count"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/mnist")
    parser.add_argument("--out", type=Path, default=REPO / "runs/mnist_cnn")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--decay-epochs", type=int, default=2)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="Seed for the weights, the split and the batches.")
    args = parser.parse_args()
    options = {
        "data": str(args.data), "model": MODEL, "image_size": 28, "channels": 1, "batch_size": 64,
        "epochs": args.epochs, "optimizer": "adam", "lr": 1e-3, "val_fraction": 0.2, "precision": args.precision,
        "seed": args.seed, "overwrite": True,
    }  # fmt: skip
    summary = [phase(options, args.out)]
    if args.decay_epochs:
        decay_out = args.out.with_name(args.out.name + "_decay")
        summary.append(phase(options, decay_out, epochs=args.decay_epochs, lr=1e-4, init_from=str(args.out)))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
