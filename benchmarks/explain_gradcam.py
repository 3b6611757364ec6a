"""Grad-CAM on ResNet-50 (224 px, batch 8): convlens vs pytorch-grad-cam vs torch-cam, side by side.

    nice .venv/bin/python benchmarks/explain_gradcam.py [--batches 3] [--precision fp32]

ResNet-50 has random weights (nothing downloads); speed and map equality do not depend on them.
Prints images/s per library, the ratios and the largest map difference to pytorch-grad-cam.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torchvision

from convlens.explain.cam import create_explainer


def timed(fn, batches: int) -> tuple[float, np.ndarray]:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(batches):
        maps = fn()
    return time.perf_counter() - start, maps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    args = parser.parse_args()
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from torchcam.methods import GradCAM as TorchCamGradCAM

    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    x = torch.rand(args.batch_size, 3, 224, 224)
    classes = model(x).argmax(1).tolist()
    ours = create_explainer("gradcam", model, layer="layer4", precision=args.precision)

    def run_ours() -> np.ndarray:
        return ours(x, target=classes).maps.numpy()

    def run_pgc() -> np.ndarray:
        with GradCAM(model=model, target_layers=[model.layer4]) as cam:
            return cam(input_tensor=x, targets=[ClassifierOutputTarget(c) for c in classes])

    def run_torchcam() -> np.ndarray:
        with TorchCamGradCAM(model, target_layer="layer4") as extractor:
            scores = model(x)
            return extractor(class_idx=classes, scores=scores)[0].numpy()

    n = args.batches * args.batch_size
    rows = {}
    for name, fn in (("convlens", run_ours), ("pytorch-grad-cam", run_pgc), ("torch-cam", run_torchcam)):
        seconds, maps = timed(fn, args.batches)
        rows[name] = (n / seconds, maps)
        print(f"{name:18s} {n / seconds:7.2f} img/s")
    ours_ips = rows["convlens"][0]
    for peer in ("pytorch-grad-cam", "torch-cam"):
        print(f"convlens / {peer}: {ours_ips / rows[peer][0]:.2f}x")
    diff = np.abs(rows["convlens"][1] - rows["pytorch-grad-cam"][1]).max()
    print(f"max |map difference| to pytorch-grad-cam at 224 px: {diff:.2e} (precision {args.precision})")
    low = create_explainer("gradcam", model, layer="layer4")(x, target=classes).raw.clamp_min(0)
    print(
        f"parameter grads left behind: {sum(p.grad is not None for p in model.parameters())}; low-res max {float(low.max()):.3g}"
    )


if __name__ == "__main__":
    main()
