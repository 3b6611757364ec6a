"""Seed 002, convolution mechanics with PyTorch and TensorFlow's conventions (NHWC arrays, "SAME"/"VALID").

1. A 3x3 image [[1,2,3],[4,5,6],[7,8,9]] convolved (VALID, stride 1) with a 2x2x1x3 filter of ones times
   1, 10 and -1 gives [[12,16],[24,28]] x 1, x 10, x -1.
2. The same with SAME padding (TF pads bottom/right when the total padding is odd).
3. 2x2 max-pooling, stride 1, SAME on the VALID result: [[28,28],[28,28]] x 1 and x 10; -12, -16, -24, -28
   for the negative filter (padding never wins a max).
4. An MNIST digit through 5 random 3x3 filters, stride 2, SAME -> 14x14, then 2x2 max-pool VALID -> 7x7; the
   feature maps are saved as a figure.

    .venv/bin/python examples/conv_mechanics.py --out /tmp/mechanics [--mnist ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

IMAGE = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.float32).reshape(1, 3, 3, 1)  # NHWC
FILTER = np.ones((2, 2, 1, 1), np.float32) * np.array([1, 10, -1], np.float32)  # HWIO, as tf.nn.conv2d


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def tf_conv2d(image: np.ndarray, weight: np.ndarray, stride: int = 1, padding: str = "VALID") -> np.ndarray:
    """``tf.nn.conv2d`` on NHWC images and HWIO filters, computed with ``torch.nn.functional.conv2d``."""
    x = torch.from_numpy(image).permute(0, 3, 1, 2)
    w = torch.from_numpy(weight).permute(3, 2, 0, 1)
    if padding == "SAME":
        top, bottom = _same_pads(x.shape[2], w.shape[2], stride)
        left, right = _same_pads(x.shape[3], w.shape[3], stride)
        x = F.pad(x, (left, right, top, bottom))
    return F.conv2d(x, w, stride=stride).permute(0, 2, 3, 1).numpy()


def tf_max_pool(image: np.ndarray, size: int = 2, stride: int = 2, padding: str = "VALID") -> np.ndarray:
    """``tf.nn.max_pool`` on NHWC; SAME padding pads with -inf so that padding never wins."""
    x = torch.from_numpy(image).permute(0, 3, 1, 2)
    if padding == "SAME":
        top, bottom = _same_pads(x.shape[2], size, stride)
        left, right = _same_pads(x.shape[3], size, stride)
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
    return F.max_pool2d(x, size, stride).permute(0, 2, 3, 1).numpy()


def load_digit(mnist: Path | None) -> np.ndarray:
    """The first MNIST training digit (or the first built-in digit) as a (1, 28, 28, 1) float array in 0-1."""
    if mnist is not None and mnist.is_dir():
        from convlens.data.mnist import load_mnist

        images = load_mnist(mnist)["train"][0]
    else:
        from convlens.data.builtin import digits_arrays

        images = digits_arrays()[0]
    return images[0].reshape(1, 28, 28, 1).astype(np.float32) / 255.0


def mnist_feature_maps(digit: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """5 random 3x3 filters, stride 2, SAME (28 -> 14), then 2x2 max-pool VALID (14 -> 7)."""
    weight = np.random.default_rng(seed).standard_normal((3, 3, 1, 5)).astype(np.float32)
    conv = tf_conv2d(digit, weight, stride=2, padding="SAME")
    return conv, tf_max_pool(conv, 2, 2, "VALID")


def save_figure(digit: np.ndarray, conv: np.ndarray, pool: np.ndarray, path: Path) -> None:
    """The digit, its 5 feature maps (14x14) and their pooled versions (7x7)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from convlens._io import write_with_atomic

    fig, axes = plt.subplots(3, 5, figsize=(10, 6))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 2].imshow(digit[0, :, :, 0], cmap="Greys")
    axes[0, 2].set_title("digit 28x28")
    for k in range(5):
        axes[1, k].imshow(conv[0, :, :, k], cmap="Greys")
        axes[1, k].set_title(f"conv {k} 14x14")
        axes[2, k].imshow(pool[0, :, :, k], cmap="Greys")
        axes[2, k].set_title(f"pool {k} 7x7")
    fig.tight_layout()
    write_with_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=80))
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed 002: convolution and pooling by hand")
    parser.add_argument("--out", type=Path, default=Path("conv_mechanics_out"))
    parser.add_argument(
        "--mnist", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    )
    args = parser.parse_args()
    valid = tf_conv2d(IMAGE, FILTER)
    for k, name in enumerate(("x1", "x10", "x-1")):
        print(f"VALID conv, filter {name}:\n{valid[0, :, :, k]}")
    print(f"SAME conv, filter x1:\n{tf_conv2d(IMAGE, FILTER, padding='SAME')[0, :, :, 0]}")
    print(f"max-pool 2x2 stride 1 SAME of the VALID result (NHWC):\n{tf_max_pool(valid, 2, 1, 'SAME')[0]}")
    digit = load_digit(args.mnist)
    conv, pool = mnist_feature_maps(digit)
    print(f"MNIST digit {digit.shape} -> conv {conv.shape} -> pool {pool.shape}")
    save_figure(digit, conv, pool, args.out / "conv_mechanics.png")
    print(f"figure: {args.out / 'conv_mechanics.png'}")


if __name__ == "__main__":
    main()
