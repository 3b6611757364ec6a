"""64 filter patterns of one layer (seed math, 64 px, 40 steps): one batch vs a loop over filters.

    nice .venv/bin/python benchmarks/explain_filters.py [--layer features.10] [--loop-filters 64]

The batched run is timed in fp32 and in bf16 autocast (AMX); the loop in fp32, its fastest form on this CPU.

VGG16's ``block3_conv1`` (torchvision index ``features.10``), random weights (nothing downloads); the
forward pass stops at the layer in both variants, so the ratio measures batching alone. ``--loop-filters``
below 64 times the loop on that many filters and scales linearly (said in the output).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torchvision

from convlens.explain.filters import seed_patterns, seed_patterns_loop

CFG = {"input_size": (3, 64, 64), "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layer", default="features.10")
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--loop-filters", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.vgg16(weights=None).eval()
    filters = list(range(args.count))
    seed_patterns(model, args.layer, filters[:2], CFG, steps=2)  # warm-up
    times, images = {}, {}
    for precision in ("fp32", "bf16"):
        start = time.perf_counter()
        images[precision] = seed_patterns(
            model, args.layer, filters, CFG, steps=args.steps, precision=precision
        )
        times[precision] = time.perf_counter() - start
        print(f"batched {precision}: {times[precision]:6.1f} s for {args.count} filters, {args.steps} steps")
    start = time.perf_counter()
    looped = seed_patterns_loop(model, args.layer, filters[: args.loop_filters], CFG, steps=args.steps)
    t_loop = (time.perf_counter() - start) * args.count / args.loop_filters
    note = "" if args.loop_filters == args.count else f" (timed on {args.loop_filters} filters, scaled)"
    print(f"loop fp32:    {t_loop:6.1f} s{note}")
    for precision in ("fp32", "bf16"):
        print(f"batched {precision} / loop fp32 speed-up: {t_loop / times[precision]:.1f}x")
    for precision in ("fp32", "bf16"):
        diff = np.abs(images[precision][: args.loop_filters].astype(int) - looped)
        print(
            f"pixels batched {precision} vs loop fp32: max diff {diff.max()}, mean {diff.mean():.2f} (of 255)"
        )


if __name__ == "__main__":
    main()
