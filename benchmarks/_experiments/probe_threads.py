"""Training-step img/s of small_convnet (fp32, channels_last) for a thread count / batch size given on argv."""
import os
import sys
import time

import torch

from convlens.models import create

threads, bs, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
m = create("small_convnet", num_classes=1, dropout=0.5).to(memory_format=torch.channels_last)
opt = torch.optim.Adam(m.parameters(), lr=1e-4)
x = torch.rand(bs, 3, 150, 150).contiguous(memory_format=torch.channels_last)
y = torch.randint(0, 2, (bs,)).float()
def step():
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(m(x).reshape(-1), y)
    loss.backward(); opt.step()
step()
t = time.perf_counter(); c = time.process_time()
for _ in range(n):
    step()
dt = time.perf_counter() - t; dc = time.process_time() - c
print(f"threads={threads} bs={bs} omp_wait={os.environ.get('OMP_WAIT_POLICY','-')}: {n*bs/dt:.1f} img/s wall, "
      f"{n*bs/dc:.1f} img/cpu-s, load={os.getloadavg()[0]:.2f}", flush=True)
