"""Jinja filters that write numbers the way the report shows them (``–`` for a missing value)."""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any

MISSING = "–"


def _ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def pct(value: Any, digits: int = 1) -> str:
    """0.9345 -> ``93.5 %``."""
    return f"{100 * value:.{digits}f} %" if _ok(value) else MISSING


def num(value: Any, digits: int = 4) -> str:
    """A loss or score with ``digits`` decimals; ``nan``/``inf`` as written by Python."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}f}" if _ok(value) else MISSING


def thousands(value: Any) -> str:
    """3453121 -> ``3,453,121``."""
    return f"{int(value):,}" if _ok(value) else MISSING


def duration(seconds: Any) -> str:
    """145.2 -> ``2 min 25 s``; 3725 -> ``1 h 02 min``; 9.87 -> ``9.9 s``."""
    if not _ok(seconds):
        return MISSING
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def cell(value: Any) -> str:
    """A history-table value: integers as they are, other numbers with 4 decimals."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return num(value) if isinstance(value, float) else (MISSING if value is None else str(value))


def basename(path: Any) -> str:
    return PurePath(str(path)).name or str(path)


def option(value: Any) -> str:
    """A training option as text: lists joined, ``None`` as ``–``."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


FILTERS = {
    "pct": pct,
    "num": num,
    "thousands": thousands,
    "duration": duration,
    "cell": cell,
    "basename": basename,
    "option": option,
}
