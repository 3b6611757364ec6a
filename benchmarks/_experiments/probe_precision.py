"""Training step of small_convnet at 150 px, channels_last: fp32 against bf16 autocast at batch 32 and 64 (img/s).

Says which CPU it ran on: bf16 pays only where the CPU multiplies bf16 natively (AMX, AVX-512 BF16).

python benchmarks/_experiments/probe_precision.py [STEPS] [ROUNDS] [BATCHES, e.g. 32,64]
"""

import os
import sys
from pathlib import Path

import torch
from probe_layout import train_rate  # this folder is on sys.path when the probe runs as a script

from convlens.models.fast import cpu_has_fast_bf16

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from time_to_accuracy import cpu_model  # the benchmarks folder, put on sys.path just above


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    batches = [int(b) for b in (sys.argv[3] if len(sys.argv) > 3 else "32,64").split(",")]
    print(f"{cpu_model()}, {os.cpu_count()} cores, native bf16: {cpu_has_fast_bf16()}, load {os.getloadavg()[0]:.2f}")
    for r in range(rounds):
        for batch in batches:
            for bf16 in (False, True):
                torch.manual_seed(0)
                rate, _ = train_rate(batch, True, steps, bf16=bf16)
                print(f"round {r} batch {batch} {'bf16' if bf16 else 'fp32'} channels_last {rate:7.1f} img/s", flush=True)


if __name__ == "__main__":
    main()
