"""Seeds 000/004: filter-pattern grids (8x8, 64 px, 5-px margins), all 64 filters of a layer in one batch.

    nice .venv/bin/python examples/filters_grid.py --out runs/filters [--model efficientnet_lite0] [--steps 40]

The seed used VGG16's block1_conv1 .. block4_conv1 with ImageNet weights; those weights are not shipped
offline, so the default is EfficientNet-Lite0's (offline) weights and four conv layers spread through
the network. ``--layers`` names others; ``--mode regularised`` gives the Lucid-style clean patterns.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn

from convlens.explain.cam._layers import forward_order
from convlens.explain.filters import pattern_grid, seed_patterns
from convlens.explain.filters_regularised import regularised_patterns
from convlens.explain.overlay import save_image
from convlens.models import create


def spread_conv_layers(model: nn.Module, count: int = 4) -> list[str]:
    """``count`` conv layers evenly spread from the first to the middle of the network (as block1..block4)."""
    convs = [
        n
        for n, m, _s, _o in forward_order(model.eval(), torch.rand(1, 3, 64, 64))
        if isinstance(m, nn.Conv2d)
    ]
    last = len(convs) * 2 // 3
    return [convs[round(i * last / (count - 1))] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/filters"))
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--layers", default=None, help="comma-separated layer names")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--mode", default="seed", choices=["seed", "regularised"])
    args = parser.parse_args()
    model = create(args.model, pretrained=True).eval()
    layers = args.layers.split(",") if args.layers else spread_conv_layers(model)
    make = seed_patterns if args.mode == "seed" else regularised_patterns
    for layer in layers:
        count = min(64, dict(model.named_modules())[layer].out_channels)
        start = time.perf_counter()
        patterns = make(model, layer, list(range(count)), model.pretrained_cfg, size=64, steps=args.steps)
        path = args.out / f"{layer.replace('.', '_')}_{args.mode}.png"
        save_image(pattern_grid(patterns), path)
        print(f"{layer}: {count} filters in {time.perf_counter() - start:.1f} s -> {path}")


if __name__ == "__main__":
    main()
