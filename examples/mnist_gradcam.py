"""Seed 003: Grad-CAM on a small MNIST CNN (conv 32 same -> pool -> conv 64 same -> pool -> dense 10).

    nice .venv/bin/python examples/mnist_gradcam.py --out runs/mnist_gradcam [--epochs 1]

Trains ``mnist_cnn`` briefly on the shared MNIST (or the built-in ``digits`` when MNIST is missing),
then writes, for the first 8 test digits, the Grad-CAM overlay of the predicted class and a strip of
3-panel figures; prints the test accuracy and each digit's prediction.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from convlens.data import BatchLoader, resolve_dataset
from convlens.explain.cam import create_explainer
from convlens.explain.overlay import overlay, panel_figure, save_figure, save_image
from convlens.train import train

MNIST = Path(__file__).resolve().parents[2] / "shared/data/mnist"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/mnist_gradcam"))
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    data = str(MNIST) if MNIST.exists() else "digits"
    run = train(
        data=data,
        model="mnist_cnn",
        out=str(args.out / "run"),
        image_size=28,
        channels=1,
        batch_size=128,
        epochs=args.epochs,
        optimizer="adam",
        lr=1e-3,
        overwrite=True,
    )
    splits = resolve_dataset(data, image_size=28, channels=1, progress=False)
    test = splits.test or splits.validation
    x, y = next(iter(BatchLoader(test, batch_size=8)))
    model = run.model.eval()
    with torch.no_grad():
        accuracy = float(
            np.mean(
                [
                    (model(xb).argmax(1) == yb).float().mean().item()
                    for xb, yb in BatchLoader(test, batch_size=500)
                ]
            )
        )
    print(f"test accuracy after {args.epochs} epoch(s): {accuracy:.4f}")
    result = create_explainer("gradcam", model)(x)
    for i in range(len(x)):
        digit = (x[i, 0].numpy() * 255).astype(np.uint8)
        big = digit.repeat(8, 0).repeat(8, 1)  # 224 px, so the overlay is visible
        blended = overlay(big, result.maps[i].numpy())
        save_image(blended, args.out / f"digit{i}_gradcam.png")
        low = torch.relu(result.raw[i]).numpy()
        save_figure(
            panel_figure(
                big,
                low / max(low.max(), 1e-12),
                blended,
                f"label {int(y[i])} · predicted {int(result.classes[i])}",
            ),
            args.out / f"digit{i}_panels.png",
        )
        print(f"digit {i}: label {int(y[i])} predicted {int(result.classes[i])} (layer {result.layer})")


if __name__ == "__main__":
    main()
