"""torch.compile on the small_convnet training step: compile time and steady per-step gain (CPU time).

    python probe_compile.py THREADS BS STEPS [mode]
Eager steps first, then the compiled model: first step (compile) and STEPS steady steps. CPU time is the
process's own plus its finished children (the compiler runs gcc in subprocesses).
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

from convlens.models import create

threads, bs, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "default"
torch.set_num_threads(threads)
torch.manual_seed(0)

def cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system

def bench(fwd, model, n):
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.rand(bs, 3, 150, 150).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (bs,)).float()
    def step():
        opt.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(fwd(x).reshape(-1), y).backward()
        opt.step()
    w, c = time.perf_counter(), cpu()
    step()
    first = (time.perf_counter() - w, cpu() - c)
    w, c = time.perf_counter(), cpu()
    for _ in range(n):
        step()
    return first, (time.perf_counter() - w, cpu() - c)

m = create("small_convnet", num_classes=1, dropout=0.5).to(memory_format=torch.channels_last)
first, steady = bench(m, m, steps)
print(f"eager  bs={bs} threads={threads}: first step {first[0]:.1f} s; {steps*bs/steady[1]:.1f} img/cpu-s, "
      f"{steps*bs/steady[0]:.1f} img/s wall, load {os.getloadavg()[0]:.2f}", flush=True)
m2 = create("small_convnet", num_classes=1, dropout=0.5).to(memory_format=torch.channels_last)
fwd = torch.compile(m2, mode=None if mode == "default" else mode)
first, steady = bench(fwd, m2, steps)
print(f"compile({mode}) bs={bs}: first step {first[0]:.1f} s wall / {first[1]:.1f} cpu-s; "
      f"{steps*bs/steady[1]:.1f} img/cpu-s, {steps*bs/steady[0]:.1f} img/s wall, load {os.getloadavg()[0]:.2f}",
      flush=True)
