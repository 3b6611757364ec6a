"""Training actions: train a model into a run folder, evaluate a run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError, ConvlensError
from convlens.train.config import TrainConfig


def train(config: TrainConfig, reporter: Reporter | None = None):  # -> convlens.train.Run
    """Train as ``config`` says into ``config.out``; checkpoints, history and curves are written every epoch.

    With ``config.report`` the run's HTML report is written at the end (``Run.report``; rank 0 only under
    ``torchrun``). A report that cannot be made is a warning: the run itself is complete.
    """
    from convlens.train.api import train as run_training

    run = run_training(config, reporter=reporter)
    if config.report and int(os.environ.get("RANK", "0")) == 0:
        run.report = _write_report(run.out, reporter)
    return run


def _write_report(folder: Path, reporter: Reporter | None) -> Path | None:
    from convlens import _reporting
    from convlens.service.reporting import ReportOptions, report

    with use_reporter(reporter):
        try:
            return report(ReportOptions([Path(folder)]), reporter).path
        except (ConvlensError, OSError) as error:
            _reporting.warn(
                f"the report of {folder} could not be written ({error}); run convlens report {folder}"
            )
            return None


@dataclass
class EvaluateOptions:
    """``convlens evaluate``: a run, a split, and optionally other data with the same classes."""

    run: Path
    split: str = "test"
    data: str | None = None
    class_map: dict[str, str] = field(default_factory=dict)
    progress: bool = True
    refresh_report: bool = True  # re-render RUN/report.html when it exists
    tta: str = "none"  # test-time views averaged: convlens.models.views.VIEWS


@dataclass
class EvaluateResult:
    """The metrics written (``metrics_<split>.json``) and the files, as paths (the refreshed report too)."""

    metrics: dict[str, Any]
    files: list[Path]
    report: Path | None = None

    def _repr_html_(self) -> str:
        from convlens.report.html.notebook import metrics_html

        return metrics_html(self.metrics)


def parse_class_map(text: str | None) -> dict[str, str]:
    """``"cats=cat,dogs=dog"`` as ``{"cats": "cat", "dogs": "dog"}``."""
    if not text:
        return {}
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(p) != 2 or not p[0].strip() or not p[1].strip() for p in pairs):
        raise ConfigError(f"--class-map must look like folder=class,folder=class; got {text!r}")
    return {k.strip(): v.strip() for k, v in pairs}


def evaluate(options: EvaluateOptions, reporter: Reporter | None = None) -> EvaluateResult:
    """Accuracy, loss, per-class scores, confusion matrix, predictions and top losses of a run on a split."""
    from convlens.runs import RunDir
    from convlens.train.evaluate import evaluate_run

    if options.split not in ("train", "validation", "test"):
        raise ConfigError(f"--split {options.split!r} is not one of: train, validation, test")
    run = RunDir(options.run)
    data = options.data
    if data and Path(data).expanduser().exists():  # absolute, so the report finds the photos from any folder
        data = str(Path(data).expanduser().resolve())
    with use_reporter(reporter):
        metrics = evaluate_run(run, options.split, data, options.progress, options.class_map, options.tta)
    names = [
        f"metrics_{options.split}.json",
        f"predictions_{options.split}.json",
        metrics["confusion_matrix_png"],
        metrics["top_losses_png"],
    ]
    result = EvaluateResult(metrics, [run.file(n) for n in names])
    if options.refresh_report:
        from convlens.service.reporting import refresh

        refreshed = refresh(run.path, reporter)
        if refreshed is not None:
            result.report = refreshed.path
            result.files.append(refreshed.path)
    return result
