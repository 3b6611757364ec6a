"""Room for decoded images: refuse a decode that would not fit the cache disk, or the memory without a cache."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from pathlib import Path

from convlens.errors import ConfigError

# Without a cache the decoded images live in RAM: refuse more than this share of what is free.
RAM_SHARE = 0.5


def check_room(shape: tuple[int, ...], folder: Path | None) -> None:
    """Refuse to decode ``shape`` uint8 pixels that would not fit the cache disk (or RAM, uncached).

    Raises:
        ConfigError: naming the size needed, the room there is, and a smaller --image-size to try.
    """
    need = math.prod(shape)
    if folder is not None:
        room, where = shutil.disk_usage(folder).free, f"the free disk space of {folder.parent}"
    else:
        free = available_memory()
        if free is None:
            return
        room, where = int(free * RAM_SHARE), f"{RAM_SHARE:.0%} of the free memory"
    if need > room:
        n, h, w, c = shape
        raise ConfigError(
            f"{n} images at {h}x{w}x{c} need {_human(need)}, more than {where} ({_human(room)}); "
            "choose a smaller --image-size (the book uses 150), fewer images, or a cache folder "
            "($CONVLENS_CACHE) on a bigger disk"
        )


def available_memory() -> int | None:
    """Bytes of memory this process may still take: ``MemAvailable``, capped by a cgroup limit."""
    free = None
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo", encoding="ascii") as fh:
        free = next((int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:")), None)
    if free is None and hasattr(os, "sysconf"):
        with contextlib.suppress(OSError, ValueError):
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        if limit != "max":
            free = min(free if free is not None else int(limit), int(limit) - used)
    return free


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)
