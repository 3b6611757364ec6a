"""Seed 000/004's Grad-CAM on the African elephant photo, with EfficientNet-Lite0's offline ImageNet weights.

    .venv/bin/python examples/gradcam_elephant.py --out runs/elephant

Prints the top-3 ImageNet classes and where the map peaks; writes the overlay at the photo's own size
(``elephant_cam.jpg``, JET at intensity 0.4 as the seed), the 3-panel figure and the map (``.npy``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from convlens.data.images import read_photo as load_photo
from convlens.explain.cam import create_explainer
from convlens.explain.overlay import overlay, panel_figure, save_figure, save_image, save_map
from convlens.models import create
from convlens.models.preprocess import model_input

PHOTO = Path(__file__).resolve().parents[2] / "shared/data/imagenet-sample/n02504458_African_elephant.JPEG"


def top3(model: torch.nn.Module, photo: np.ndarray) -> list[tuple[str, float]]:
    """Top-3 (wnid or label, probability) with the reference preprocessing (resize 256, centre crop 224)."""
    x = model_input(photo, {**model.pretrained_cfg, "input_size": (3, 256, 256)})[:, 16:240, 16:240]
    with torch.no_grad():
        probs = torch.softmax(model(x[None]), dim=1)
    try:
        from convlens.models.imagenet import decode_predictions

        return [(str(d[1]), float(d[2])) for d in decode_predictions(probs.numpy(), top=3)[0]]
    except (ImportError, AttributeError, TypeError, IndexError):
        labels = model.pretrained_cfg["labels"]
        values, idx = probs[0].topk(3)
        return [(labels[int(i)], float(v)) for v, i in zip(values, idx)]


def run(out: Path, photo_path: Path = PHOTO) -> dict:
    """Classify, explain the top class with Grad-CAM and write the seed's outputs under ``out``."""
    model = create("efficientnet_lite0", pretrained=True).eval()
    photo = load_photo(photo_path)
    result = create_explainer("gradcam", model)(model_input(photo, model.pretrained_cfg))
    heatmap = result.maps[0].numpy()
    blended = overlay(photo, heatmap)
    save_map(heatmap, out / "elephant_gradcam.npy")
    save_image(blended, out / "elephant_cam.jpg")
    low = torch.relu(result.raw[0]).numpy()
    save_figure(
        panel_figure(photo, low / max(low.max(), 1e-12), blended, f"Grad-CAM · {result.layer}"),
        out / "elephant_panels.png",
    )
    row, col = np.unravel_index(int(heatmap.argmax()), heatmap.shape)
    peak = ((col + 0.5) * photo.shape[1] / heatmap.shape[1], (row + 0.5) * photo.shape[0] / heatmap.shape[0])
    return {
        "top3": top3(model, photo),
        "class": int(result.classes[0]),
        "layer": result.layer,
        "peak_xy": [round(peak[0], 1), round(peak[1], 1)],
        "photo_size": list(photo.shape[1::-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/elephant"))
    parser.add_argument("--photo", type=Path, default=PHOTO)
    args = parser.parse_args()
    print(json.dumps(run(args.out, args.photo), indent=2))


if __name__ == "__main__":
    main()
