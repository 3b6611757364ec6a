"""Seed 001: the degradation problem. A plain net and a residual net of the same depth on cifar10-small.

Both train with the same options; their training-loss curves go on one plot (``OUT/plain_vs_residual.png``),
and the per-epoch losses and accuracies to ``OUT/summary.json``.

    nice .venv/bin/python examples/resnet_plain_vs_residual.py --out runs/resnet [--epochs 10] [--depth 20]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from convlens.report import plot_loss_comparison
from convlens.train import TrainConfig, train

REPO = Path(__file__).resolve().parents[1]
NETS = {"plain": "plain{depth}", "residual": "resnet{depth}"}  # CIFAR-style 6n+2 layers: 20, 32, 56, 110


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/cifar10-small")
    parser.add_argument("--out", type=Path, default=REPO / "runs/resnet")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--depth", type=int, default=20)
    args = parser.parse_args()
    curves, summary = {}, {}
    for label, pattern in NETS.items():
        model = pattern.format(depth=args.depth)
        config = TrainConfig(
            data=str(args.data),
            model=model,
            out=str(args.out / label),
            image_size=32,
            batch_size=64,
            epochs=args.epochs,
            optimizer="adam",
            lr=1e-3,
            val_fraction=0.1,
            overwrite=True,
        )
        t0 = time.perf_counter()
        run = train(config)
        curves[f"{label} ({args.depth} layers)"] = [row["loss"] for row in run.history]
        summary[label] = {
            "model": model,
            "depth": args.depth,
            "wall_s": round(time.perf_counter() - t0, 1),
            "history": run.history,
        }
    plot_loss_comparison(curves, args.out / "plain_vs_residual.png", title="Training loss: plain vs residual")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    for label, values in curves.items():
        print(f"{label}: training loss " + " ".join(f"{v:.3f}" for v in values))


if __name__ == "__main__":
    main()
