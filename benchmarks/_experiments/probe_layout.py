"""fp32 training step of small_convnet at 150 px, batch 64: NCHW against channels_last (wall and CPU seconds)."""

import os
import sys
import time

import torch
import torch.nn.functional as F

from convlens.models import create

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 8
torch.manual_seed(0)


def cpu():
    t = os.times()
    return t.user + t.system


def run(channels_last: bool) -> tuple[float, float]:
    model = create("small_convnet", num_classes=2, dropout=0.5)
    x = torch.rand(64, 3, 150, 150)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (64,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    step(), step()
    w, c = time.perf_counter(), cpu()
    for _ in range(steps):
        step()
    return 64 * steps / (time.perf_counter() - w), 64 * steps / (cpu() - c)


for round_ in range(2):
    for cl in (False, True):
        img_s, img_cpu_s = run(cl)
        print(
            f"round {round_} {'channels_last' if cl else 'NCHW         '} {img_s:6.1f} img/s {img_cpu_s:6.1f} img/cpu-s",
            flush=True,
        )
