"""What one server holds: its settings, the model cache, the compute pool, the jobs, recent photos, uploads."""

from __future__ import annotations

import asyncio
import functools
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi import UploadFile

from convlens.errors import DataError
from convlens.service.interactive import PhotoError
from convlens.web.jobs import JobRunner
from convlens.web.models import ModelCache
from convlens.web.security import BodyTooLarge
from convlens.web.settings import WebSettings

T = TypeVar("T")
CHUNK = 1024 * 1024
PAGE_PHOTO_SIDE = 1600  # photos kept for the pages are shrunk to this (the model sees 224-300 px anyway)


@dataclass
class StoredPhoto:
    """A photo the pages work on (explain again with another class, activations...), and its results."""

    id: str
    name: str
    photo: Any  # uint8 (H, W, 3)
    results: dict[str, Any] = field(default_factory=dict)  # result id -> (model label, PhotoMap)


class LruStore:
    """A thread-safe dict that keeps the ``capacity`` latest entries (ids are unguessable tokens)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, key: str) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)


class AppState:
    """The server's state (``app.state.convlens``)."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.models = ModelCache(settings.runs, settings.models_in_memory, settings.default_model)
        self.jobs = JobRunner(workers=settings.job_workers)
        self.pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="convlens-request")
        self.work_dir = Path(tempfile.mkdtemp(prefix="convlens-serve-"))
        self.uploads = self.work_dir / "uploads"
        self.uploads.mkdir()
        self.photos = LruStore(8)  # StoredPhoto by id
        self.cache = LruStore(32)  # computed pages and images: data info, filter grids, run reports

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in the compute pool, off the event loop (at most ``workers`` at once)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(work, *args))

    async def run_timed(self, work: Callable[[], T], response: Any) -> T:
        """:meth:`run`, and a ``Server-Timing`` header on ``response``: the wait for a worker (``queue``) and the
        work itself (``compute``), in milliseconds (what the latency benchmark splits an answer into)."""
        marks = {"submitted": time.perf_counter()}

        def timed() -> T:
            marks["start"] = time.perf_counter()
            try:
                return work()
            finally:
                marks["end"] = time.perf_counter()

        result = await self.run(timed)
        queue, compute = marks["start"] - marks["submitted"], marks["end"] - marks["start"]
        response.headers["Server-Timing"] = f"queue;dur={queue * 1000:.1f}, compute;dur={compute * 1000:.1f}"
        return result

    @contextmanager
    def upload(self, upload: UploadFile) -> Iterator[Callable[[], Path]]:
        """A function that saves the uploaded file in a folder of its own under the server's temporary folder
        and returns its path; call it in the worker that reads the file. The folder is removed on exit.

        The function raises ``BodyTooLarge`` (413) above the upload limit and ``PhotoError`` (400) when empty.
        """
        folder = Path(tempfile.mkdtemp(dir=self.uploads))

        def save() -> Path:
            path = folder / "upload"
            if copy_limited(upload.file, path, self.settings.max_upload) == 0:
                raise PhotoError("the uploaded file is empty (0 bytes); choose a photo", "empty")
            return path

        try:
            yield save
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def store_photo(self, name: str, photo: Any) -> StoredPhoto:
        """Keep a (shrunk) copy of an uploaded photo for the pages; returns its entry."""
        stored = StoredPhoto(secrets.token_urlsafe(12), name[:200], shrink(photo, PAGE_PHOTO_SIDE))
        self.photos.put(stored.id, stored)
        return stored

    def photo(self, photo_id: str) -> StoredPhoto:
        """A stored photo.

        Raises:
            DataError: unknown or forgotten (the server keeps the latest few).
        """
        stored = self.photos.get(photo_id) if photo_id else None
        if stored is None:
            raise DataError("that photo is no longer on the server (it keeps the latest few); choose it again")
        return stored

    def close(self) -> None:
        """Stop the pools and remove the temporary folder."""
        self.jobs.shutdown()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.work_dir, ignore_errors=True)


def copy_limited(source: Any, path: Path, limit: int) -> int:
    """Copy the upload to ``path``; its size in bytes.

    Raises:
        BodyTooLarge: more than ``limit`` bytes.
    """
    size = 0
    source.seek(0)
    with open(path, "wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            out.write(chunk)
    return size


def shrink(photo: Any, side: int) -> Any:
    """``photo`` with its longest side at most ``side`` pixels (never enlarged)."""
    import numpy as np
    from PIL import Image

    if max(photo.shape[:2]) <= side:
        return photo
    image = Image.fromarray(photo)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return np.asarray(image)
