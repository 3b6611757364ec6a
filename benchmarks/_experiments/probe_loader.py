"""CPU cost of one epoch of BatchLoader batches (book augmentation, channels_last) vs one training step."""
import os
import sys
import time

import torch

from convlens.data import Augmentation, BatchLoader, resolve_dataset

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
bs = int(sys.argv[2]) if len(sys.argv) > 2 else 64
s = resolve_dataset("/tmp/cvd_split", image_size=(150, 150), progress=False)
for aug in (None, Augmentation.preset("book")):
    loader = BatchLoader(s.train, batch_size=bs, shuffle=True, augment=aug, channels_last=True)
    t, c = time.perf_counter(), time.process_time()
    n = sum(len(y) for _, y in loader)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    print(f"augment={'book' if aug else 'none'} bs={bs} threads={torch.get_num_threads()}: {n} images "
          f"{dt:.1f} s wall, {dc:.1f} s cpu ({n/dc:.0f} img/cpu-s), load {os.getloadavg()[0]:.2f}", flush=True)
