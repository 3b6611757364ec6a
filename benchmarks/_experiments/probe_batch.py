"""fp32 channels_last small_convnet at 150 px: training images/s at batch 32, 64 and 128, inference at batch 64.

python benchmarks/_experiments/probe_batch.py
"""

import time

import torch
import torch.nn.functional as F

from convlens.models import create

torch.manual_seed(0)


def model() -> torch.nn.Module:
    return create("small_convnet", num_classes=1, dropout=0.5).to(memory_format=torch.channels_last)


def batch(size: int) -> torch.Tensor:
    return torch.rand(size, 3, 150, 150).contiguous(memory_format=torch.channels_last)


def train_rate(size: int, steps: int) -> float:
    net, x, y = model(), batch(size), torch.rand(size, 1).round()
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(net(x), y).backward()
        optimizer.step()

    step(), step()  # warm-up
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return size * steps / (time.perf_counter() - started)


def inference_rate(size: int, steps: int) -> float:
    net, x = model().eval(), batch(size)
    with torch.inference_mode():
        net(x)
        started = time.perf_counter()
        for _ in range(steps):
            net(x)
    return size * steps / (time.perf_counter() - started)


for round_ in range(2):  # 384 training images per batch size and round
    rates = {f"b{size}": round(train_rate(size, 384 // size), 1) for size in (32, 64, 128)}
    print(round_, rates, "eval b64", round(inference_rate(64, 6), 1), flush=True)
