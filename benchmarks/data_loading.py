"""Images per second to decode and resize the Dogs vs. Cats pool to 150x150: convlens vs torchvision.

Peer: torchvision ``ImageFolder`` + PIL (``Resize((150, 150))``, ``ToTensor``) through a ``DataLoader``
with 2 worker processes, batch 20. convlens: ``resolve_dataset`` with an empty decode-once cache
(first epoch: decode + iterate ``BatchLoader``), then with the cache filled (cached epoch: open the
memory map + iterate). Both read the same split folders in the same run, after one warm-up read of
every file so the OS page cache is warm for both.

Usage: ``python benchmarks/data_loading.py [--pool ../shared/data/dogs-vs-cats/raw] [--rounds 3]``

Rounds interleave peer, first and cached epochs so that load from other processes hits all three.
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
    data = ConcatDataset(
        [datasets.ImageFolder(str(root / s), transform=tf) for s in ("train", "validation", "test")]
    )
    loader = DataLoader(data, batch_size=BATCH, num_workers=workers, shuffle=False)
    start, n = time.perf_counter(), 0
    for x, _ in loader:
        n += x.shape[0]
    return n, time.perf_counter() - start


def convlens_epoch(root: Path, cache: Path) -> tuple[int, float]:
    start, n = time.perf_counter(), 0
    splits = resolve_dataset(root, image_size=SIZE, cache_dir=cache, progress=False)
    for _, ds in splits.items():  # noqa: PERF102 - DataSplits.items() is a list of pairs, not a dict
        for x, _ in BatchLoader(ds, batch_size=BATCH):
            n += x.shape[0]
    return n, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=REPO.parent / "shared/data/dogs-vs-cats/raw")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians reported)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the peer")
    args = parser.parse_args()
    torch.set_num_threads(2)
    times: dict[str, list[float]] = {"peer": [], "first": [], "cached": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "split"
        split_pool(args.pool, root, counts=(1000, 500, 500), order="natural", link="copy")
        print(
            f"split of {args.pool}: 4000 images into {root}; warm-up read {warm_page_cache(root) / 1e6:.0f} MB"
        )
        for r in range(args.rounds):
            cache = Path(tmp) / f"cache{r}"  # empty: a true first epoch every round
            n, seconds = peer_epoch(root, args.workers)
            times["peer"].append(seconds)
            times["first"].append(convlens_epoch(root, cache)[1])
            times["cached"].append(convlens_epoch(root, cache)[1])
            print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()))
    rate = {k: n / statistics.median(v) for k, v in times.items()}
    print(f"peer  torchvision ImageFolder + DataLoader({args.workers} workers): {rate['peer']:.0f} img/s")
    print(f"convlens first epoch (decode + cache + batches): {rate['first']:.0f} img/s")
    print(f"convlens cached epoch (open cache + batches):   {rate['cached']:.0f} img/s")
    print(
        f"ratios vs peer (medians of {args.rounds} rounds): first epoch {rate['first'] / rate['peer']:.2f}x, "
        f"cached epoch {rate['cached'] / rate['peer']:.1f}x"
    )


if __name__ == "__main__":
    main()
