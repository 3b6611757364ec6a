"""One epoch of the seed's small convnet with the book augmentation: convlens vs Keras 3 (TensorFlow CPU).

Both sides start from the JPEG files of the book's 2,000-image train split and end at the last optimizer step:
convlens decodes once into its cache (timed, cold) then trains; Keras runs the seed's model and augmentation
(``image_dataset_from_directory`` + Keras 3 augmentation layers, which replace the removed ImageDataGenerator).
Also reports the FLOP utilisation of the convlens epoch against a bf16 matmul peak measured in the same run.

    nice .venv/bin/python benchmarks/train_small_convnet.py [--data ../shared/data/dogs-vs-cats/raw]

Each side runs in its own process so that TensorFlow and PyTorch do not share thread pools.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH = 32
SIZE = 150


def make_split(raw: Path, dst: Path) -> Path:
    """The book's split (per class 1000/500/500 by id) as symlinks, for both sides."""
    from convlens.data.split import split_pool

    split_pool(raw, dst, counts=(1000, 500, 500), link="symlink")
    return dst


def run_convlens(split: Path, epochs: int) -> dict:
    """Cold decode (fresh cache) + ``epochs`` epochs with bf16 autocast + channels_last."""
    import torch

    from convlens.data import Augmentation, BatchLoader, resolve_dataset
    from convlens.models import create
    from convlens.train._device import resolve_precision
    from convlens.train.metrics import LossFn
    from convlens.train.trainer import Trainer

    os.environ["CONVLENS_CACHE"] = tempfile.mkdtemp(prefix="bench-cache-")
    t0 = time.perf_counter()
    splits = resolve_dataset(str(split), image_size=(SIZE, SIZE), progress=False)
    decode_s = time.perf_counter() - t0
    precision = resolve_precision("auto", torch.device("cpu"))
    torch.manual_seed(0)
    model = create("small_convnet", num_classes=1, input_size=(3, SIZE, SIZE), dropout=0.5)
    if precision.channels_last:
        model = model.to(memory_format=torch.channels_last)
    loader = BatchLoader(
        splits.train,
        batch_size=BATCH,
        shuffle=True,
        augment=Augmentation.preset("book"),
        channels_last=precision.channels_last,
    )
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-4, alpha=0.9, eps=1e-7)
    trainer = Trainer(model, opt, LossFn("binary"), loader, None, epochs, precision)
    t1 = time.perf_counter()
    trainer.fit()
    train_s = time.perf_counter() - t1
    n = len(splits.train) * epochs
    flops = train_flops_per_image(model, precision)
    return {
        "images": n,
        "decode_s": decode_s,
        "train_s": train_s,
        "total_s": decode_s + train_s,
        "train_img_per_s": n / train_s,
        "end_to_end_img_per_s": n / (decode_s + train_s),
        "precision": precision.name,
        "train_gflop_per_image": flops / 1e9,
        "achieved_tflops": flops * n / train_s / 1e12,
        "bf16_matmul_peak_tflops": matmul_peak_tflops(),
        "threads": torch.get_num_threads(),
    }


def train_flops_per_image(model, precision) -> float:
    """Forward + backward FLOPs of one image (torch's FLOP counter, batch of 8)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(8, 3, SIZE, SIZE)
    counter = FlopCounterMode(display=False)
    with counter, precision.autocast():
        model(x).float().sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 8


def matmul_peak_tflops(n: int = 2048, repeats: int = 10) -> float:
    """Best bf16 matmul throughput of this machine, measured now."""
    import torch

    a, b = torch.randn(n, n, dtype=torch.bfloat16), torch.randn(n, n, dtype=torch.bfloat16)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e12


def run_keras(split: Path, epochs: int) -> dict:
    """The seed's model and augmentation in Keras 3 on TensorFlow-CPU, from JPEG files."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    from _keras_book import book_augmentation, book_convnet

    keras.utils.set_random_seed(0)
    t0 = time.perf_counter()
    ds = keras.utils.image_dataset_from_directory(
        split / "train", image_size=(SIZE, SIZE), batch_size=BATCH, label_mode="binary", shuffle=True, seed=0
    )
    augment = book_augmentation(keras)
    ds = ds.map(lambda x, y: (augment(x, training=True), y))
    model = book_convnet(keras, SIZE)
    model.fit(ds, epochs=epochs, verbose=0)
    total = time.perf_counter() - t0
    n = 2000 * epochs
    return {"images": n, "total_s": total, "end_to_end_img_per_s": n / total, "keras": keras.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/dogs-vs-cats/raw"
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--side", choices=["convlens", "keras"], help=argparse.SUPPRESS)
    parser.add_argument("--split", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        result = (run_convlens if args.side == "convlens" else run_keras)(args.split, args.epochs)
        print("RESULT " + json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp:
        split = make_split(args.data, Path(tmp) / "split")
        results = {side: child(side, split, args.epochs) for side in ("convlens", "keras")}
    report(results)


def child(side: str, split: Path, epochs: int) -> dict:
    """Run one side in a fresh interpreter and parse its RESULT line."""
    cmd = [sys.executable, __file__, "--side", side, "--split", str(split), "--epochs", str(epochs)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{side} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def report(results: dict) -> None:
    c, k = results["convlens"], results["keras"]
    print(json.dumps(results, indent=2))
    print(
        f"convlens: decode {c['decode_s']:.1f} s + train {c['train_s']:.1f} s = {c['total_s']:.1f} s "
        f"({c['end_to_end_img_per_s']:.0f} img/s end to end, {c['train_img_per_s']:.0f} img/s training, {c['precision']})"
    )
    print(f"keras {k['keras']}: {k['total_s']:.1f} s ({k['end_to_end_img_per_s']:.0f} img/s end to end)")
    print(f"ratio convlens/keras, end to end (cold decode included): {k['total_s'] / c['total_s']:.2f}x")
    print(
        f"ratio convlens/keras, later epochs (decode cached): {c['train_img_per_s'] / k['end_to_end_img_per_s']:.2f}x"
    )
    util = c["achieved_tflops"] / c["bf16_matmul_peak_tflops"]
    print(
        f"FLOP utilisation: {c['achieved_tflops']:.3f} TFLOP/s of a {c['bf16_matmul_peak_tflops']:.3f} TFLOP/s bf16 "
        f"matmul peak = {100 * util:.1f} % ({c['train_gflop_per_image']:.2f} GFLOP per training image)"
    )


if __name__ == "__main__":
    main()
