"""Per-image speed of one training step of small_convnet: fp32/bf16, contiguous/channels_last, batch sizes."""
import os
import sys
import time

import torch

from convlens.models import create

torch.manual_seed(0)
res = []
for prec in sys.argv[1].split(","):
    for cl in (False, True):
        for bs in (32, 64, 128):
            m = create("small_convnet", num_classes=1, dropout=0.5)
            if cl:
                m = m.to(memory_format=torch.channels_last)
            opt = torch.optim.RMSprop(m.parameters(), lr=1e-4)
            x = torch.rand(bs, 3, 150, 150)
            if cl:
                x = x.contiguous(memory_format=torch.channels_last)
            y = torch.randint(0, 2, (bs, 1)).float()
            def step(opt=opt, m=m, x=x, y=y, prec=prec):
                opt.zero_grad(set_to_none=True)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"):
                    out = m(x)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out.float(), y)
                loss.backward(); opt.step()
            step()
            n = max(2, 256 // bs)
            t = time.perf_counter()
            for _ in range(n):
                step()
            dt = time.perf_counter() - t
            print(f"{prec} cl={cl} bs={bs}: {n*bs/dt:.1f} img/s  load={os.getloadavg()[0]:.2f}", flush=True)
