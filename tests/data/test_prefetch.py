"""Prefetching batches in a background thread: same batches, errors raised in the loop, no thread left behind."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from convlens.data import ArrayDataset, Augmentation, BatchLoader
from convlens.data.prefetch import prefetch


def _dataset(n=24):
    rng = np.random.default_rng(0)
    return ArrayDataset(rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8), np.arange(n) % 2, ["x", "y"])


def _producers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "convlens-prefetch"]


def test_prefetched_epochs_are_the_same_batches():
    options = {"batch_size": 5, "shuffle": True, "seed": 3, "augment": Augmentation.preset("book")}
    plain, ahead = BatchLoader(_dataset(), **options), BatchLoader(_dataset(), prefetch=2, **options)
    for epoch in (0, 1):
        plain.set_epoch(epoch)
        ahead.set_epoch(epoch)
        pairs = list(zip(plain, ahead, strict=True))
        assert len(pairs) == 5
        for (x, y), (xa, ya) in pairs:
            assert torch.equal(x, xa) and torch.equal(y, ya)
    assert not _producers()


def test_an_error_while_producing_is_raised_at_that_item():
    def items():
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        got.extend(prefetch(items(), depth=1))
    assert got == [1, 2] and not _producers()


def test_leaving_the_loop_early_stops_the_producer():
    made = []

    def endless():
        n = 0
        while True:
            made.append(n)
            yield n
            n += 1

    for item in prefetch(endless(), depth=2):
        if item == 3:
            break
    assert not _producers()
    assert len(made) <= 3 + 1 + 2 + 1  # the items used, the queue's depth, and the one being made


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        next(prefetch([1], depth=0))
