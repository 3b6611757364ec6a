"""EfficientNet-Lite0 exported to ONNX: onnxruntime fp32 against convlens' ``predict --fast`` path, same run.

Exports ``efficientnet_lite0`` with :func:`convlens.models.export.export_model` (which verifies the file), then
times, on the photos of ``shared/data/imagenet-sample`` preprocessed once by convlens (preprocessing not timed;
the same tensors for every engine):

- PyTorch fp32 eager (what ``predict`` does without ``--fast``),
- convlens ``predict --fast``: batch norm folded, channels-last, bf16 autocast (``convlens.models.fast``); on a
  CPU without native bf16 units (AMX / AVX-512 BF16) autocast is emulated and about 20x slower than fp32, so
  there it is timed on one batch only unless ``--bf16 always``,
- the same fast path in fp32 (batch norm folded, channels-last): what ``--fast`` can do on such a CPU,
- onnxruntime fp32 on the CPU, intra-op threads = ``--threads`` (default: every CPU thread),

and prints images/second and top-1 against the wnids in the file names for each.

    .venv/bin/python -u benchmarks/export_onnx.py [--batch 32] [--repeats 1] [--threads N] [--exporter auto]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from convlens import models
from convlens.models import imagenet
from convlens.models.export import export_model
from convlens.models.fast import autocast, for_inference
from convlens.models.preprocess import load_batch
from convlens.train._device import cpu_has_fast_bf16

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imagenet-sample"

Engine = Callable[[torch.Tensor], torch.Tensor]


def torch_engine(model: torch.nn.Module, fast: bool, bf16: bool) -> Engine:
    model = for_inference(model) if fast else model.eval()

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), autocast("cpu", enabled=bf16):
            return model(x.contiguous(memory_format=torch.channels_last) if fast else x).float()

    return run


def onnx_engine(path: Path, threads: int) -> Engine:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])

    return run


def measure(engine: Engine, batches: list[torch.Tensor], repeats: int) -> tuple[list[float], torch.Tensor]:
    """Images/second of each pass over every batch (after one warm-up batch), and the last pass's top-1 classes."""
    engine(batches[0])
    speeds, top = [], torch.empty(0)
    for _ in range(repeats):
        start = time.perf_counter()
        top = torch.cat([engine(x).argmax(1) for x in batches])
        speeds.append(len(top) / (time.perf_counter() - start))
    return speeds, top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--exporter", default="auto", help="auto | dynamo | legacy")
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--bf16", choices=("auto", "always"), default="auto", help="see the module docstring")
    args = parser.parse_args()
    native_bf16 = cpu_has_fast_bf16()
    torch.set_num_threads(args.threads)
    print(
        f"threads {args.threads}, CPU {torch.backends.cpu.get_cpu_capability()}, native bf16 {native_bf16}, "
        f"load average {' / '.join(f'{v:.1f}' for v in os.getloadavg())}",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = export_model("efficientnet_lite0", "onnx", Path(tmp) / "lite0.onnx", exporter=args.exporter)
        print(
            f"export ({result.exporter}, opset {result.opset}) + verification: {time.perf_counter() - start:.1f} s; "
            f"max abs logit diff {result.max_abs_diff:.2e}, top-1 agreement {result.top1_agreement:.0%} "
            f"on {result.verified_images} photos",
            flush=True,
        )
        model = models.create("efficientnet_lite0", pretrained=True).eval()
        files = sorted(args.sample.glob("*.JPEG"))
        index = {w: i for i, w in enumerate(imagenet.wnids())}
        targets = torch.tensor([index[f.name.split("_")[0]] for f in files])
        x = load_batch(files, model.pretrained_cfg)
        batches = list(x.split(args.batch))
        bf16_name = "convlens predict --fast (BN folded, channels-last, bf16)"
        engines = {
            "PyTorch fp32 (predict)": torch_engine(model, fast=False, bf16=False),
            bf16_name: torch_engine(model, fast=True, bf16=True),
            "convlens fast path in fp32 (BN folded, channels-last)": torch_engine(
                model, fast=True, bf16=False
            ),
            "onnxruntime fp32 (CPU)": onnx_engine(result.path, args.threads),
        }
        tops = {}
        for name, engine in engines.items():
            if name == bf16_name and not (native_bf16 or args.bf16 == "always"):
                speeds, _ = measure(
                    engine, batches[:1], 1
                )  # emulated bf16: the whole sample would take an hour
                print(
                    f"{name:58s} {speeds[0]:7.2f} img/s (one batch; bf16 emulated on this CPU: top-1 not run)"
                )
                continue
            speeds, tops[name] = measure(engine, batches, args.repeats)
            top1 = (tops[name] == targets).float().mean().item()
            runs = " / ".join(f"{s:.2f}" for s in speeds)
            print(
                f"{name:58s} {statistics.median(speeds):7.2f} img/s (runs {runs})  top-1 {top1:.4f}",
                flush=True,
            )
    agree = (tops["onnxruntime fp32 (CPU)"] == tops["PyTorch fp32 (predict)"]).float().mean().item()
    print(f"onnxruntime vs PyTorch fp32: same top-1 class on {agree:.1%} of {len(files)} photos")
    print(f"load average after: {' / '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
