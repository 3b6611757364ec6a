"""fp32 channels_last small_convnet at 150 px: training images/s at batch 32, 64 and 128, inference at batch 64.

python benchmarks/_experiments/probe_batch.py
"""

import time

import torch
from probe_layout import train_rate  # this folder is on sys.path when the probe runs as a script

from convlens.models import create


def inference_rate(size: int, steps: int) -> float:
    net = create("small_convnet", num_classes=1, dropout=0.5).to(memory_format=torch.channels_last).eval()
    x = torch.rand(size, 3, 150, 150).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        net(x)
        started = time.perf_counter()
        for _ in range(steps):
            net(x)
    return size * steps / (time.perf_counter() - started)


torch.manual_seed(0)
for round_ in range(2):  # 384 training images per batch size and round
    rates = {f"b{size}": round(train_rate(size, True, 384 // size)[0], 1) for size in (32, 64, 128)}
    print(round_, rates, "eval b64", round(inference_rate(64, 6), 1), flush=True)
