"""Feature extraction: the VGG16 conv base at 150 px, convlens vs Keras 3 (TensorFlow CPU); and Lite0 bf16 vs fp32.

Part 1 (speed): the same random images (uint8, decoded in memory) through a VGG16 conv base with random weights,
convlens (``forward_features`` in bf16 autocast + channels_last, batch 50) against Keras
(``VGG16(weights=None, include_top=False).predict``, batch 20 as in the seed). Goal: at least 3x.

Part 2 (accuracy): ``--mode features`` with EfficientNet-Lite0 on the book's cats-vs-dogs split, once with bf16
features and once with fp32 features; test accuracies should agree within 0.5 point.

    nice .venv/bin/python benchmarks/feature_extraction.py [--images 200] [--skip-accuracy]
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

SIZE = 150
REPO = Path(__file__).resolve().parents[1]


def images(n: int):
    import numpy as np

    return np.random.default_rng(0).integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)


def run_convlens(n: int) -> dict:
    """VGG16 conv base, random weights, bf16 autocast + channels_last."""
    import torch

    from convlens.models import create
    from convlens.train._device import resolve_precision

    precision = resolve_precision("auto", torch.device("cpu"))
    model = create("vgg16", pretrained=False, input_size=(3, SIZE, SIZE)).eval()
    if precision.channels_last:
        model = model.to(memory_format=torch.channels_last)
    x_all = torch.from_numpy(images(n)).permute(0, 3, 1, 2)
    with torch.no_grad(), precision.autocast():
        model.forward_features(x_all[:2].float() / 255)  # warm-up: oneDNN primitive creation
        t0 = time.perf_counter()
        for start in range(0, n, 50):
            x = x_all[start : start + 50].float().div_(255).contiguous(memory_format=torch.channels_last)
            features = model.forward_features(x)
        seconds = time.perf_counter() - t0
    return {**_rate(n, seconds, features), "precision": precision.name}


def _rate(n: int, seconds: float, features) -> dict:
    return {"images": n, "seconds": seconds, "img_per_s": n / seconds, "shape": list(features.shape[1:])}


def run_keras(n: int) -> dict:
    """``keras.applications.VGG16(weights=None, include_top=False)`` as the seed builds it."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
    x = images(n).astype("float32") / 255
    base.predict(x[:20], batch_size=20, verbose=0)  # warm-up: graph tracing
    t0 = time.perf_counter()
    features = base.predict(x, batch_size=20, verbose=0)
    seconds = time.perf_counter() - t0
    return {**_rate(n, seconds, features), "keras": keras.__version__}


def lite0_accuracy(data: Path, precision: str, epochs: int) -> dict:
    """Test accuracy of a Lite0 ``features`` run in the given precision."""
    from convlens.train import TrainConfig, train
    from convlens.train.evaluate import evaluate_run

    out = Path(tempfile.mkdtemp(prefix=f"bench-lite0-{precision}-"))
    t0 = time.perf_counter()
    config = TrainConfig(
        data=str(data),
        out=str(out),
        base="efficientnet_lite0",
        mode="features",
        image_size=224,
        batch_size=20,
        epochs=epochs,
        lr=1e-4,
        dropout=0.5,
        precision=precision,
        progress=False,
        overwrite=True,
    )
    run = train(config)
    metrics = evaluate_run(run.out, split="test", progress=False)
    return {
        "precision": precision,
        "test_acc": metrics["accuracy"],
        "val_acc": run.last.get("val_acc"),
        "epochs": epochs,
        "seconds": time.perf_counter() - t0,
    }


def child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{args} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument(
        "--data",
        type=Path,
        default=REPO / "runs/cats_vs_dogs/data",
        help="the book's split (made when missing)",
    )
    parser.add_argument("--epochs", type=int, default=10, help="head epochs of the Lite0 accuracy check")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        if args.side in ("bf16", "fp32"):
            result = lite0_accuracy(args.data, args.side, args.epochs)
        else:
            result = (run_convlens if args.side == "convlens" else run_keras)(args.images)
        print("RESULT " + json.dumps(result))
        return
    if not args.skip_accuracy and not (args.data / "train").is_dir():
        from convlens.data.split import split_pool

        raw = REPO.parent / "shared/data/dogs-vs-cats/raw"
        split_pool(raw, args.data, counts=(1000, 500, 500), link="symlink")
    common = ["--images", str(args.images), "--data", str(args.data), "--epochs", str(args.epochs)]
    c, k = child(["--side", "convlens", *common]), child(["--side", "keras", *common])
    print(json.dumps({"convlens": c, "keras": k}, indent=2))
    print(
        f"VGG16 conv base at {SIZE} px, {args.images} images: convlens {c['img_per_s']:.1f} img/s ({c['precision']}), "
        f"keras {k['img_per_s']:.1f} img/s; ratio {c['img_per_s'] / k['img_per_s']:.2f}x; features {c['shape']}"
    )
    if not args.skip_accuracy:
        bf16, fp32 = child(["--side", "bf16", *common]), child(["--side", "fp32", *common])
        print(json.dumps({"bf16": bf16, "fp32": fp32}, indent=2))
        gap = 100 * abs(bf16["test_acc"] - fp32["test_acc"])
        print(
            f"Lite0 features, test accuracy: bf16 {100 * bf16['test_acc']:.2f} %, fp32 {100 * fp32['test_acc']:.2f} % "
            f"(gap {gap:.2f} pt, {args.epochs} head epochs)"
        )


if __name__ == "__main__":
    main()
