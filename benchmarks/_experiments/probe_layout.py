"""fp32 training step of small_convnet at 150 px, batch 64: NCHW against channels_last (wall and CPU seconds).

python benchmarks/_experiments/probe_layout.py [STEPS]
"""

import os
import sys
import time

import torch
import torch.nn.functional as F

from convlens.models import create


def cpu():
    t = os.times()
    return t.user + t.system


def train_rate(batch: int, channels_last: bool, steps: int, bf16: bool = False) -> tuple[float, float]:
    """Training images per second and per CPU-second of ``steps`` steps on one synthetic batch (the forward pass
    under bf16 autocast with ``bf16``)."""
    model = create("small_convnet", num_classes=2, dropout=0.5)
    x = torch.rand(batch, 3, 150, 150)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        loss.backward()
        opt.step()

    step(), step()
    w, c = time.perf_counter(), cpu()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - w), batch * steps / (cpu() - c)


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    torch.manual_seed(0)
    for round_ in range(2):
        for cl in (False, True):
            img_s, img_cpu_s = train_rate(64, cl, steps)
            layout = "channels_last" if cl else "NCHW         "
            print(f"round {round_} {layout} {img_s:6.1f} img/s {img_cpu_s:6.1f} img/cpu-s", flush=True)
