"""Where convlens keeps what it can rebuild: ``$CONVLENS_CACHE`` (default ``~/.cache/convlens``)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(kind: str | None = None) -> Path:
    """The cache folder, or its ``kind`` sub-folder (``images`` for decoded photos, ``features`` for features)."""
    env = os.environ.get("CONVLENS_CACHE")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "convlens"
    return root / kind if kind else root
