"""Seed 001: CAM on a VGG19-like net with global average pooling, trained briefly on ``cifar10-small``.

    nice .venv/bin/python examples/vgg_gap_cam.py --out runs/vgg_gap_cam [--epochs 3]

The seed trains VGG19's conv base + GAP + one linear layer on STL-10 and draws CAM: the map of class c is
the linear layer's weights for c times the last feature maps, normalised, resized to 224 and laid over
the image at 0.4. The net here keeps VGG19's 2-2-4-4 conv layout at an eighth of the width so a short CPU
run learns something; ``cifar10-small`` (32 px) stands in for STL-10. CAM is checked against Grad-CAM,
which on a GAP + linear head gives the same map.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn

from convlens.data import BatchLoader, resolve_dataset
from convlens.explain.cam import create_explainer
from convlens.explain.overlay import overlay, panel_figure, save_figure, save_image

CIFAR = Path(__file__).resolve().parents[2] / "shared/data/cifar10-small"


class VggGap(nn.Module):
    """VGG19's conv layout (2-2-4-4 convs, 3 max-pools) at 1/8 width, then global average pooling + linear."""

    def __init__(
        self, num_classes: int = 10, widths: tuple[int, ...] = (8, 16, 32, 64), layout=(2, 2, 4, 4)
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for block, (width, convs) in enumerate(zip(widths, layout)):
            for _ in range(convs):
                layers += [nn.Conv2d(c_in, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
                c_in = width
            if block < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean(dim=(2, 3)))

    def get_classifier(self) -> nn.Module:
        return self.fc


def train_briefly(model: nn.Module, loader: BatchLoader, epochs: int) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        losses = []
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/vgg_gap_cam"))
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    splits = resolve_dataset(CIFAR, image_size=32, val_fraction=0.1, progress=False)
    model = VggGap(len(splits.classes))
    train_briefly(model, BatchLoader(splits.train, batch_size=64, shuffle=True), args.epochs)
    model.eval()
    test = splits.test or splits.validation
    x, y = next(iter(BatchLoader(test, batch_size=500)))
    with torch.no_grad():
        print(f"accuracy on {len(y)} test images: {(model(x).argmax(1) == y).float().mean().item():.3f}")
    cam = create_explainer("cam", model)(x[:8])
    grad = create_explainer("gradcam", model, layer=cam.layer)(x[:8])
    print(f"layer {cam.layer}; max |CAM - Grad-CAM| = {float((cam.maps - grad.maps).abs().max()):.2e}")
    for i in range(8):
        photo = np.asarray(
            torch.nn.functional.interpolate(x[i : i + 1] * 255, size=224, mode="bilinear")[0]
            .permute(1, 2, 0)
            .clamp(0, 255)
            .byte()
        )
        blended = overlay(photo, cam.maps[i].numpy())
        name = f"{i}_{splits.classes[int(y[i])]}_as_{splits.classes[int(cam.classes[i])]}"
        save_image(blended, args.out / f"{name}_cam.png")
        low = torch.relu(cam.raw[i]).numpy()
        save_figure(
            panel_figure(photo, low / max(low.max(), 1e-12), blended, name), args.out / f"{name}_panels.png"
        )
    print(f"CAM overlays written to {args.out}")


if __name__ == "__main__":
    main()
