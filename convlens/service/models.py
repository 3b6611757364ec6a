"""Model actions: list the registry, summarise a network, predict images."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError
from convlens.service import sources


@dataclass
class ModelInfo:
    name: str
    family: str
    input_size: tuple[int, int, int]
    num_classes: int
    weights: bool
    description: str


def list_models() -> list[ModelInfo]:
    """The registered networks, by name."""
    from convlens.models import registry

    return [
        ModelInfo(
            e.name,
            e.meta["family"],
            tuple(e.meta["default_input_size"]),
            e.meta["num_classes"],
            bool(e.meta["weights"]),
            e.meta["description"],
        )
        for e in registry.entries()
    ]


@dataclass
class SummaryOptions:
    name: str
    input_size: int | None = None
    no_top: bool = False
    num_classes: int | None = None


def summary(options: SummaryOptions):  # -> convlens.models.summary.Summary
    """A Keras-like summary: layers, output shapes, parameters."""
    from convlens import models
    from convlens.models.summary import summarize

    kwargs = {"include_top": False} if options.no_top else {}
    if options.input_size is not None and not 8 <= options.input_size <= 4096:
        raise ConfigError(f"--input-size {options.input_size} must be between 8 and 4096")
    try:
        model = models.create(
            options.name, num_classes=options.num_classes, input_size=options.input_size, **kwargs
        )
    except TypeError as exc:
        raise ConfigError(
            f"{options.name} does not take that option ({exc}); --no-top works for vgg16, vgg19, efficientnet_lite0"
        ) from None
    try:
        return summarize(model)
    except RuntimeError as exc:
        raise ConfigError(
            f"{options.name} cannot run at that input size ({str(exc).splitlines()[0]})"
        ) from None


@dataclass
class PredictOptions:
    """``convlens predict``: images (files or folders) and where the model comes from."""

    images: list[Path]
    model: str | None = None
    checkpoint: Path | None = None
    weights: Path | None = None
    topk: int = 3
    batch_size: int = 16
    fast: bool = False
    progress: bool = True
    tta: str = "none"  # test-time views averaged: convlens.models.views.VIEWS


@dataclass
class PredictResult:
    """``records``: ``[{"image", "top": [{"wnid", "label", "prob"}]}]``; ``skipped``: unusable files and why."""

    records: list[dict[str, Any]]
    skipped: list = field(default_factory=list)
    model: str = ""

    def _repr_html_(self) -> str:
        from convlens.report.html.notebook import predictions_html

        return predictions_html(self.records)


def predict(options: PredictOptions, reporter: Reporter | None = None, loaded: Any = None) -> PredictResult:
    """Top-k classes of every usable image; unusable files are skipped and listed, never fatal.

    ``loaded`` (a :class:`convlens.models.loaded.LoadedModel`) reuses a model already in memory (the web app).
    """
    from convlens.data.folders import collect_images
    from convlens.models.predict import predict_files

    if options.topk < 1 or options.batch_size < 1:
        raise ConfigError("--topk and --batch-size must be at least 1")
    with use_reporter(reporter):
        paths, skipped = collect_images(options.images)
        if loaded is None:
            loaded = sources.load_model(options.model, options.checkpoint, options.weights)
        with loaded.lock:
            records, bad = predict_files(
                loaded.model,
                paths,
                options.topk,
                classes=sources.decode_names(loaded),
                batch_size=options.batch_size,
                progress=options.progress,
                fast=options.fast,
                cfg=loaded.cfg,
                tta=options.tta,
            )
    return PredictResult(records, skipped + bad, loaded.source)


@dataclass
class ExportOptions:
    """``convlens export``: a run folder or a pretrained model name, to ONNX or TorchScript."""

    source: str
    format: str
    out: Path | None = None
    fast: bool = False
    images: list[Path] | None = None
    exporter: str = "auto"


def export(
    options: ExportOptions, reporter: Reporter | None = None
):  # -> convlens.models.export.ExportResult
    """Export and verify against PyTorch on real photos (max abs logit difference, top-1 agreement)."""
    from convlens.models.export import export_model

    with use_reporter(reporter):
        return export_model(
            options.source,
            options.format,
            out=options.out,
            fast=options.fast,
            images=options.images,
            exporter=options.exporter,
        )
