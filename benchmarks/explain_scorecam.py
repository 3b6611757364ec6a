"""Score-CAM on ResNet-50 ``layer4`` (2,048 maps), one 224-px image: convlens exact / fast vs pytorch-grad-cam.

    nice .venv/bin/python benchmarks/explain_scorecam.py [--peer-channels 128]

pytorch-grad-cam needs ~200 s per image here, so it is timed on its own code path restricted to the first
``--peer-channels`` channels (same batch of 16, same per-channel work) and scaled linearly to 2,048
channels; the script says so in its output. ResNet-50 has random weights (nothing downloads).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from convlens.explain.cam import create_explainer

PHOTO = Path(__file__).resolve().parents[2] / "shared/data/imagenet-sample/n02504458_African_elephant.JPEG"


def load_image() -> torch.Tensor:
    if not PHOTO.exists():
        torch.manual_seed(0)
        return torch.rand(1, 3, 224, 224)
    img = (
        np.asarray(Image.open(PHOTO).convert("RGB").resize((224, 224), Image.BICUBIC), dtype=np.float32) / 255
    )
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    return (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[
        :, None, None
    ]


def time_ours(model, x, cls: int, method: str, precision: str) -> tuple[float, torch.Tensor]:
    explain = create_explainer(method, model, layer="layer4", precision=precision)
    start = time.perf_counter()
    maps = explain(x, target=cls).maps[0]
    return time.perf_counter() - start, maps


def time_peer(model, x, cls: int, channels: int) -> float:
    from pytorch_grad_cam import ScoreCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    with ScoreCAM(model=model, target_layers=[model.layer4]) as cam:
        original = cam.get_cam_weights

        def first_channels(input_tensor, target_layer, targets, activations, grads):
            return original(input_tensor, target_layer, targets, activations[:, :channels], grads)

        cam.get_cam_weights = first_channels
        start = time.perf_counter()
        try:
            cam(input_tensor=x, targets=[ClassifierOutputTarget(cls)])
        except ValueError:
            pass  # the restricted weights no longer broadcast against all 2,048 maps: timing is complete
        return time.perf_counter() - start


def corr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.flatten().numpy(), b.flatten().numpy())[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-channels", type=int, default=128)
    parser.add_argument("--top-n", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    x = load_image()
    cls = int(model(x).argmax())
    peer = time_peer(model, x, cls, args.peer_channels) * 2048 / args.peer_channels
    print(
        f"pytorch-grad-cam  {peer:7.1f} s/image (measured on {args.peer_channels} channels, scaled to 2048)"
    )
    results = {}
    for label, method, precision in (
        ("exact fp32", "scorecam", "fp32"),
        ("exact bf16", "scorecam", "bf16"),
        ("fast fp32", "scorecam-fast", "fp32"),
        ("fast bf16", "scorecam-fast", "bf16"),
    ):
        if method == "scorecam-fast":
            from convlens.explain.cam.scorecam import FastScoreCam

            FastScoreCam.top_n = args.top_n
        seconds, maps = time_ours(model, x, cls, method, precision)
        results[label] = maps
        print(f"convlens {label:11s} {seconds:7.1f} s/image  {peer / seconds:6.1f}x pytorch-grad-cam")
    for label in ("exact bf16", "fast fp32", "fast bf16"):
        print(f"correlation({label}, exact fp32) = {corr(results[label], results['exact fp32']):.4f}")


if __name__ == "__main__":
    main()
