"""Training step of small_convnet at 150 px, channels_last: fp32 against bf16 autocast at batch 32 and 64 (img/s).

Says which CPU it ran on: bf16 pays only where the CPU multiplies bf16 natively (AMX, AVX-512 BF16).

python benchmarks/_experiments/probe_precision.py [STEPS] [ROUNDS] [BATCHES, e.g. 32,64]
"""

import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from convlens.models import create
from convlens.models.fast import cpu_has_fast_bf16


def train_rate(bf16: bool, steps: int, batch: int = 64) -> float:
    """Training images per second over ``steps`` steps on one synthetic batch (after two warm-up steps)."""
    torch.manual_seed(0)
    model = create("small_convnet", num_classes=2, dropout=0.5).to(memory_format=torch.channels_last)
    x = torch.rand(batch, 3, 150, 150).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (batch,)).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)[:, -1]
        loss = F.binary_cross_entropy_with_logits(logits.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    batches = [int(b) for b in (sys.argv[3] if len(sys.argv) > 3 else "32,64").split(",")]
    info = Path("/proc/cpuinfo").read_text().splitlines()
    model_name = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    print(f"{model_name}, {os.cpu_count()} cores, native bf16: {cpu_has_fast_bf16()}, load {os.getloadavg()[0]:.2f}")
    for r in range(rounds):
        for batch in batches:
            for bf16 in (False, True):
                rate = train_rate(bf16, steps, batch)
                print(f"round {r} batch {batch} {'bf16' if bf16 else 'fp32'} channels_last {rate:7.1f} img/s", flush=True)


if __name__ == "__main__":
    main()
