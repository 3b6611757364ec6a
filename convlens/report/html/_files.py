"""Reading a run folder for the report: every file is optional, and what is missing becomes a note."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from convlens.report.html.views import split_key

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def read_json(path: Path, notes: list[str], expect: type = dict) -> Any:
    """The parsed JSON file, or ``None`` with a note when it is missing, unreadable or of another shape."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        notes.append(f"{path.name} could not be read ({error}); its part of the report is left out.")
        return None
    if not isinstance(data, expect):
        notes.append(f"{path.name} holds a {type(data).__name__}, not a {expect.__name__}; it is left out.")
        return None
    return data


def split_files(run_dir: Path, prefix: str) -> dict[str, Path]:
    """``{split: path}`` of ``<prefix>_<split>.json`` files, in train / validation / test order."""
    pattern = re.compile(rf"^{re.escape(prefix)}_(.+)\.json$")
    found = {m.group(1): p for p in run_dir.glob(f"{prefix}_*.json") if (m := pattern.match(p.name))}
    return dict(sorted(found.items(), key=lambda kv: split_key(kv[0])))


def natural_key(path: Path) -> list[Any]:
    """Sort ``conv2d_10`` after ``conv2d_9``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def image_files(folder: Path) -> list[Path]:
    """The pictures directly inside ``folder``, in natural order (none when it does not exist)."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)


def display_name(path: str, root: str | None) -> str:
    """``path`` relative to the data folder when it lies inside it (``test/cat/cat.1500.jpg``), else its name."""
    if root:
        try:
            return Path(path).relative_to(Path(root)).as_posix()
        except ValueError:
            pass
    return Path(path).name or path


def number(value: Any) -> float | None:
    """A finite-or-not float for numbers, ``None`` for anything else (JSON may hold strings or nulls)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def integer(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
