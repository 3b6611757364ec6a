"""Make the next batches in a background thread while the caller trains on the current one.

Decoding-free batches (uint8 -> float, the batched augmentation) are numpy and torch work that releases the GIL,
so one producer thread overlaps them with the training step. The producer owns its random generator (the loader
seeds one per epoch), so the batches and their order are the same as without prefetching.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield ``items`` in order, producing up to ``depth`` of them ahead in a daemon thread.

    An error raised while producing is raised here, at the item it stopped. Leaving the loop early (``break``,
    an exception in the caller, closing the generator) stops the producer before this returns.
    """
    if depth < 1:
        raise ValueError(f"prefetch depth must be at least 1, not {depth}")
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer and raised there
            put(_Failure(error))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name="convlens-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()
