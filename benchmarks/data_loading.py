"""Images per second to decode and resize the Dogs vs. Cats pool to 150x150: convlens vs torchvision.

Peer: torchvision ``ImageFolder`` + PIL (``Resize((150, 150))``, ``ToTensor``) through a ``DataLoader``
with 2 worker processes, batch 20. convlens: ``resolve_dataset`` with an empty decode-once cache
(first epoch: decode + iterate ``BatchLoader``), then with the cache filled (cached epoch: open the
memory map + iterate). Both read the same split folders in the same run, after one warm-up read of
every file so the OS page cache is warm for both.

Usage: ``python benchmarks/data_loading.py [--pool ../shared/data/dogs-vs-cats/raw] [--epochs 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import ConcatDataset, DataLoader
from torchvision import datasets, transforms

from convlens.data import BatchLoader, resolve_dataset
from convlens.data.split import split_pool

SIZE = (150, 150)
BATCH = 20
REPO = Path(__file__).resolve().parents[1]


def warm_page_cache(root: Path) -> int:
    return sum(len(p.read_bytes()) for p in root.rglob("*.jpg"))


def peer_epoch(root: Path, workers: int) -> tuple[int, float]:
    tf = transforms.Compose([transforms.Resize(SIZE), transforms.ToTensor()])
    data = ConcatDataset([datasets.ImageFolder(str(root / s), transform=tf) for s in ("train", "validation", "test")])
    loader = DataLoader(data, batch_size=BATCH, num_workers=workers, shuffle=False)
    start, n = time.perf_counter(), 0
    for x, _ in loader:
        n += x.shape[0]
    return n, time.perf_counter() - start


def convlens_epoch(root: Path, cache: Path) -> tuple[int, float]:
    start, n = time.perf_counter(), 0
    splits = resolve_dataset(root, image_size=SIZE, cache_dir=cache, progress=False)
    for _, ds in splits.items():
        for x, _ in BatchLoader(ds, batch_size=BATCH):
            n += x.shape[0]
    return n, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=REPO.parent / "shared/data/dogs-vs-cats/raw")
    parser.add_argument("--epochs", type=int, default=3, help="cached epochs to time (median reported)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the peer")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "split", Path(tmp) / "cache"
        split_pool(args.pool, root, counts=(1000, 500, 500), order="natural", link="copy")
        print(f"split of {args.pool}: 4000 images into {root}; warm-up read {warm_page_cache(root) / 1e6:.0f} MB")
        n, peer_s = peer_epoch(root, args.workers)
        peer = n / peer_s
        print(f"peer  torchvision ImageFolder + DataLoader({args.workers} workers): {n} img in {peer_s:.2f} s = {peer:.0f} img/s")
        n, first_s = convlens_epoch(root, cache)
        first = n / first_s
        print(f"convlens first epoch (decode + cache + batches):        {n} img in {first_s:.2f} s = {first:.0f} img/s")
        cached_s = statistics.median(convlens_epoch(root, cache)[1] for _ in range(args.epochs))
        cached = n / cached_s
        print(f"convlens cached epoch (median of {args.epochs}):                    {n} img in {cached_s:.3f} s = {cached:.0f} img/s")
        print(f"ratios vs peer: first epoch {first / peer:.2f}x, cached epoch {cached / peer:.1f}x")


if __name__ == "__main__":
    main()
