"""Seeds 000/004: the intermediate activations of a (briefly) trained small convnet on one cat picture.

    nice .venv/bin/python examples/visualize_small_convnet.py --out runs/small_convnet_activations [--epochs 2]

Trains the book's ``small_convnet`` (150 px, one sigmoid logit) on the built-in ``pets-mini`` pool for a
couple of epochs, then prints each of the first 8 layers' output shapes (148x148x32 ... 7x7x128 in the
book's channels-last words) and writes one grid per layer (16 channels a row, the seed's normalisation)
plus one channel on its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from convlens.data import resolve_dataset
from convlens.explain.activations import capture_activations, default_layers, save_activation_images
from convlens.explain.cam import create_explainer
from convlens.explain.overlay import overlay, save_image
from convlens.train import train


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/small_convnet_activations"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--channel", type=int, default=4, help="the channel shown on its own (the seed shows 4)"
    )
    args = parser.parse_args()
    run = train(
        data="pets-mini",
        model="small_convnet",
        out=str(args.out / "run"),
        image_size=150,
        epochs=args.epochs,
        val_fraction=0.2,
        overwrite=True,
        progress=False,
    )
    model = run.model.eval()
    splits = resolve_dataset("pets-mini", image_size=150, val_fraction=0.2, progress=False)
    image, label = (splits.validation or splits.train)[0]
    x = image.float()[None] / 255.0
    layers = default_layers(model, x)
    acts = capture_activations(model, x, layers)
    for name, act in acts.items():
        _, c, h, w = act.shape
        print(f"{name:12s} {h}x{w}x{c}")
    for path in save_activation_images(acts, args.out, channel=args.channel):
        print("wrote", path)
    for target in (0, 1):  # one sigmoid logit: both classes are explained (-logit for class 0)
        maps = create_explainer("gradcam", model)(x, target=target).maps[0]
        photo = image.permute(1, 2, 0).numpy()
        save_image(overlay(photo, maps.numpy()), args.out / f"gradcam_{run.classes[target]}.png")
    print(f"label {run.classes[label]}; Grad-CAM overlays for both classes written to {args.out}")


if __name__ == "__main__":
    main()
