"""64 filter patterns of one layer (seed math, 64 px, 40 steps): one batch vs a loop over filters.

    nice .venv/bin/python benchmarks/explain_filters.py [--layer features.10] [--loop-filters 64]

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
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.vgg16(weights=None).eval()
    filters = list(range(args.count))
    seed_patterns(model, args.layer, filters[:2], CFG, steps=2)  # warm-up
    start = time.perf_counter()
    batched = seed_patterns(model, args.layer, filters, CFG, steps=args.steps, precision=args.precision)
    t_batch = time.perf_counter() - start
    start = time.perf_counter()
    looped = seed_patterns_loop(model, args.layer, filters[: args.loop_filters], CFG, steps=args.steps,
                                precision=args.precision)
    t_loop = (time.perf_counter() - start) * args.count / args.loop_filters
    note = "" if args.loop_filters == args.count else f" (loop timed on {args.loop_filters} filters, scaled)"
    print(f"precision {args.precision}")
    print(f"batched: {t_batch:6.1f} s for {args.count} filters, {args.steps} steps")
    print(f"loop:    {t_loop:6.1f} s{note}")
    print(f"batched / loop speed-up: {t_loop / t_batch:.1f}x")
    diff = np.abs(batched[: args.loop_filters].astype(int) - looped).max()
    print(f"max pixel difference batched vs loop: {diff} (of 255)")


if __name__ == "__main__":
    main()
