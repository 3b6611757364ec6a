"""Build the view of a comparison of several runs (the book's story: scratch, augmentation, features, fine-tuning)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from convlens.errors import DataError
from convlens.report.html._files import number, read_json, split_files
from convlens.report.html.build import read_curves, run_header, timestamp
from convlens.report.html.views import ComparedRun, ComparisonReport


def build_comparison(run_dirs: Sequence[str | Path]) -> ComparisonReport:
    """Headers, histories and evaluated accuracies of ``run_dirs``, in the order given.

    Raises:
        DataError: a path is not a folder.
    """
    runs, notes = [], []
    for run_dir in map(Path, run_dirs):
        if not run_dir.is_dir():
            raise DataError(f"{run_dir} is not a folder; give run folders written by convlens train")
        run_notes: list[str] = []
        config = read_json(run_dir / "config.json", run_notes) or {}
        runs.append(
            ComparedRun(run_header(run_dir, config), read_curves(run_dir, run_notes), accuracies(run_dir))
        )
        notes.extend(f"{run_dir.name}: {note}" for note in run_notes)
    _unique_names(runs)
    return ComparisonReport(runs=runs, notes=notes, generated=timestamp())


def accuracies(run_dir: Path) -> dict[str, float]:
    """``{split: accuracy}`` of every evaluated split (``metrics_<split>.json``, else ``metrics.json``)."""
    ignored: list[str] = []
    found = {}
    for split, path in split_files(run_dir, "metrics").items():
        value = number((read_json(path, ignored) or {}).get("accuracy"))
        if value is not None:
            found[split] = value
    latest = read_json(run_dir / "metrics.json", ignored) or {}
    value = number(latest.get("accuracy"))
    if value is not None:
        found.setdefault(str(latest.get("split", "test")), value)
    return found


def _unique_names(runs: list[ComparedRun]) -> None:
    """Runs named alike (``a/run`` and ``b/run``) get a number, so legends and tables tell them apart."""
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.header.name] = seen.get(run.header.name, 0) + 1
        if seen[run.header.name] > 1:
            run.header.name = f"{run.header.name} ({seen[run.header.name]})"
