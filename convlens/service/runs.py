"""The runs under a folder: what each is, how far it got, and whether a ``convlens train`` is writing it now.

A run is *training* while another process holds its lock (``RUN/.convlens.lock``, an ``flock`` taken by
``convlens train`` for the whole run). The lock is looked up without being taken: on Linux in
``/proc/locks`` (the lock file's inode among the held ``FLOCK`` locks), elsewhere by a non-blocking shared
``flock`` released at once. *done* means the configured epochs are finished, *stopped* that they are not and
nobody is writing (interrupted; ``--resume`` continues it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convlens._reporting import use_reporter
from convlens.errors import CheckpointError, DataError

LOCK_FILE = ".convlens.lock"
MAX_RUNS = 500  # a runs folder is listed up to this many entries


@dataclass
class RunSummary:
    """One row of the runs table."""

    name: str
    path: Path
    model: str = ""
    mode: str = ""
    state: str = "done"  # training | done | stopped
    epochs_done: int = 0
    epochs: int | None = None
    best_val_acc: float | None = None
    test_acc: float | None = None
    evaluated: list[str] = field(default_factory=list)
    modified: float = 0.0


def list_runs(root: str | os.PathLike[str]) -> list[RunSummary]:
    """Every run folder directly under ``root`` (a folder with ``config.json``), newest first.

    A missing ``root`` holds no runs; damaged runs are listed with what could be read.
    """
    from convlens.runs import RunDir

    folder = Path(root)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir())[:MAX_RUNS]:
        run = RunDir(entry)
        if entry.is_dir() and not entry.is_symlink() and run.is_run():
            found.append(summarise(run, entry.name))
    return sorted(found, key=lambda r: -r.modified)


def find_run(root: str | os.PathLike[str], name: str) -> Path:
    """The run called ``name`` directly under ``root``; nothing outside ``root`` is ever reached.

    Raises:
        DataError: ``name`` is not the name of a run folder under ``root`` (``..``, separators, links...).
    """
    base = Path(root).resolve()
    unusable = not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name
    candidate = base / name
    if unusable or candidate.is_symlink() or candidate.resolve().parent != base or not (candidate / "config.json").is_file():
        raise DataError(f"there is no run called {name!r} under {base}")
    return candidate


def run_state(path: str | os.PathLike[str], epochs_done: int = 0, epochs: int | None = None) -> str:
    """``training`` (another process holds the run's lock), else ``done`` or ``stopped``."""
    if is_locked(Path(path) / LOCK_FILE):
        return "training"
    return "stopped" if epochs and epochs_done < epochs else "done"


def is_locked(lock_file: Path) -> bool:
    """Whether a process holds an ``flock`` on ``lock_file``, found without taking it (Linux), or by a
    non-blocking shared ``flock`` released at once."""
    try:
        inode = lock_file.stat().st_ino
    except OSError:
        return False
    try:
        held = Path("/proc/locks").read_text()
    except OSError:
        return _probe(lock_file)
    # "1: FLOCK  ADVISORY  WRITE 29043 fe:00:2146402 0 EOF": the device is left out, because an overlay
    # file system reports another device in /proc/locks than stat() does.
    return any(
        parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode)
        for parts in (line.split() for line in held.splitlines())
        if len(parts) >= 6
    )


def _probe(lock_file: Path) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return False
    try:
        handle = os.open(lock_file, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
    finally:
        os.close(handle)


def summarise(run: Any, name: str) -> RunSummary:
    """The table row of one :class:`convlens.runs.RunDir`; unreadable files leave their fields empty."""
    summary = RunSummary(name, run.path, modified=_mtime(run.path))
    with contextlib.suppress(CheckpointError):
        config = run.read_config()
        train = config.get("train") if isinstance(config.get("train"), dict) else {}
        summary.model = str(config.get("model") or "")
        summary.mode = str(config.get("mode") or train.get("mode") or "")
        summary.epochs = train.get("epochs") if isinstance(train.get("epochs"), int) else None
    with contextlib.suppress(CheckpointError):
        history = run.history()
        summary.epochs_done = len(history)
        accuracies = [r["val_acc"] for r in history if isinstance(r.get("val_acc"), (int, float))]
        summary.best_val_acc = max(accuracies) if accuracies else None
    with contextlib.suppress(CheckpointError):
        summary.evaluated = run.evaluated_splits()
        test = run.read_json("metrics", "test") or {}
        summary.test_acc = test.get("accuracy") if isinstance(test.get("accuracy"), (int, float)) else None
    summary.state = run_state(run.path, summary.epochs_done, summary.epochs)
    return summary


def run_details(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A run's ``config.json``, history and metrics per evaluated split, as plain data.

    Raises:
        CheckpointError: ``config.json`` is missing or damaged.
    """
    from convlens.runs import RunDir

    run = RunDir(path)
    config = run.read_config()
    summary = summarise(run, run.path.name)
    metrics = {}
    for split in summary.evaluated:
        with contextlib.suppress(CheckpointError):
            metrics[split] = run.read_json("metrics", split)
    return {"name": summary.name, "state": summary.state, "config": config, "history": run.history(), "metrics": metrics}


def _mtime(path: Path) -> float:
    try:
        return max(
            (path / name).stat().st_mtime
            for name in ("config.json", "history.json", "metrics.json")
            if (path / name).exists()
        )
    except (OSError, ValueError):
        return 0.0


def report_view(
    path: str | os.PathLike[str], model: Callable[[], Any] | None = None, cmap: str = "jet", reporter: Any = None
) -> Any:
    """The view of a run's report (:class:`convlens.report.html.views.RunReport`), ready to render in a page.

    Args:
        path: the run folder.
        model: gives the run's :class:`LoadedModel` (called only when the page shows confused images or top
            losses): they get Grad-CAM overlays in one batched pass. A model that cannot be loaded (a run
            without weights yet) means no overlays, with a warning.
        cmap: the overlays' colormap.
        reporter: gets the progress of the overlays and the warnings.
    """
    from convlens import _reporting
    from convlens.errors import ConvlensError
    from convlens.report.html import build_run_report
    from convlens.service.reporting import gradcam_overlays

    def overlays(requests: Any) -> Any:
        if not requests or model is None:
            return {}
        try:
            loaded = model()
        except ConvlensError as exc:
            _reporting.warn(f"no Grad-CAM overlays: {exc}")
            return {}
        return gradcam_overlays(loaded, requests, cmap)

    with use_reporter(reporter):
        return build_run_report(Path(path), overlays=overlays, cmap=cmap)


def history_curves(path: str | os.PathLike[str]) -> Any:
    """The run's curves view (:class:`convlens.report.html.views.Curves`) from its ``history.json`` now."""
    from convlens.report.html.build import read_curves

    return read_curves(Path(path), [])


def summarise_folder(path: str | os.PathLike[str]) -> RunSummary:
    """The table row of the run folder ``path``."""
    from convlens.runs import RunDir

    return summarise(RunDir(path), Path(path).name)
