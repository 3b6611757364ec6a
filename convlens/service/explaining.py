"""Explanation actions: class activation maps, intermediate activations, filter patterns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError
from convlens.service import sources


@dataclass
class ExplainOptions:
    """``convlens explain``: images, a model source, methods, and where the maps go."""

    source: Path
    out: Path
    model: str | None = None
    checkpoint: Path | None = None
    methods: list[str] = field(default_factory=lambda: ["gradcam"])
    layer: str | None = None
    target: str | int | None = None
    precision: str = "fp32"
    figures: bool = True
    evaluate: bool = False
    boxes: Path | None = None
    cmap: str = "jet"
    progress: bool = True


@dataclass
class ExplainResult:
    """Per image and method what was written; with ``evaluate`` the faithfulness summary too."""

    records: list[Any]
    out: Path
    summary: dict[str, Any] | None = None
    skipped: list = field(default_factory=list)
    report: Path | None = None  # ``out/report.html``, refreshed when it existed

    def _repr_html_(self) -> str:
        from convlens.report.html.notebook import explanations_html

        return explanations_html(self.records)


def explain(options: ExplainOptions, reporter: Reporter | None = None, loaded: Any = None) -> ExplainResult:
    """Maps (``.npy`` in [0, 1]), overlays and figures for every usable image; unusable files are listed.

    ``out/report.html``, when it exists (``convlens report OUT`` wrote it), is rendered again. The report of
    the ``--checkpoint`` run is not touched: it shows nothing that ``explain`` writes.
    """
    from convlens.explain.cam import explainers
    from convlens.explain.overlay import CMAPS
    from convlens.explain.run import ExplainConfig, explain_images

    for method in options.methods:
        explainers.entry(method)  # unknown names fail before any work, listing the choices
    if options.cmap not in CMAPS:
        raise ConfigError(f"--cmap {options.cmap!r} is not one of: {', '.join(CMAPS)}")
    if options.boxes is not None and not options.evaluate:
        raise ConfigError("--boxes scores the pointing game, which needs --evaluate")
    with use_reporter(reporter):
        if loaded is None:
            loaded = sources.load_model(options.model, options.checkpoint, random_if_missing=True)
        config = ExplainConfig(
            Path(options.source),
            Path(options.out),
            list(options.methods),
            options.layer,
            loaded.class_index(options.target),
            options.precision,
            options.figures,
            options.progress,
            options.cmap,
        )
        skipped: list = []
        records, summary = [], None
        with loaded.lock:
            if options.evaluate:
                from convlens.explain.evaluate import evaluate_explanations

                summary = evaluate_explanations(loaded, config, options.boxes, skipped)
            else:
                records = list(explain_images(loaded, config, skipped=skipped))
    return ExplainResult(records, config.out, summary, skipped, _refreshed(config.out, reporter))


@dataclass
class ActivationsOptions:
    """``convlens activations``: one image, the layers (default the first 8 with spatial output)."""

    image: Path
    out: Path
    layers: list[str] | None = None
    channel: int = 0
    model: str | None = None
    checkpoint: Path | None = None


@dataclass
class ActivationsResult:
    shapes: dict[str, tuple[int, ...]]
    files: list[Path]


def activations(
    options: ActivationsOptions, reporter: Reporter | None = None, loaded: Any = None
) -> ActivationsResult:
    """One test image through the first layers: each output shape, a grid per layer, one channel alone."""
    from convlens.data.images import BadImage, read_photo
    from convlens.errors import DataError
    from convlens.explain.activations import capture_activations, default_layers, save_activation_images
    from convlens.models.preprocess import model_input

    with use_reporter(reporter):
        if loaded is None:
            loaded = sources.load_model(options.model, options.checkpoint, random_if_missing=True)
        try:
            photo = read_photo(options.image, loaded.channels)
        except BadImage as exc:
            raise DataError(f"cannot read {options.image}: {exc.reason}") from None
        x = model_input(photo, loaded.cfg)[None].to(loaded.device)
        with loaded.lock:
            names = options.layers or default_layers(loaded.model, x)
            acts = capture_activations(loaded.model, x, names)
        files = save_activation_images(acts, Path(options.out), options.channel)
    _refreshed_run(Path(options.out), "activations", reporter)
    return ActivationsResult({name: tuple(act.shape) for name, act in acts.items()}, files)


@dataclass
class FiltersOptions:
    out: Path
    model: str | None = None
    checkpoint: Path | None = None
    layer: str | None = None
    count: int = 64
    size: int = 64
    steps: int = 40
    mode: str = "seed"
    precision: str = "fp32"


@dataclass
class FiltersResult:
    layer: str
    path: Path
    count: int


def filters(options: FiltersOptions, reporter: Reporter | None = None, loaded: Any = None) -> FiltersResult:
    """Filter patterns of one layer, all filters optimised together, as an 8x8 grid with 5-px margins."""
    import torch

    from convlens.explain.filters import middle_conv_layer, pattern_grid, seed_patterns
    from convlens.explain.filters_regularised import regularised_patterns
    from convlens.explain.overlay import save_image

    if options.mode not in ("seed", "regularised"):
        raise ConfigError(f"--mode {options.mode!r} is unknown; use seed or regularised")
    if not (1 <= options.count <= 1024 and 8 <= options.size <= 512 and 1 <= options.steps <= 10_000):
        raise ConfigError("--count must be 1-1024, --size 8-512 and --steps 1-10000")
    with use_reporter(reporter):
        if loaded is None:
            loaded = sources.load_model(options.model, options.checkpoint, random_if_missing=True)
        with loaded.lock:
            _, height, width = loaded.cfg.get("input_size", (loaded.channels, options.size, options.size))
            probe = torch.rand(1, loaded.channels, height, width, device=loaded.device)
            layer = options.layer or middle_conv_layer(loaded.model, probe)
            extra = {"precision": _precision(options.precision, loaded)} if options.mode == "seed" else {}
            make = seed_patterns if options.mode == "seed" else regularised_patterns
            filters_ = list(range(options.count))
            patterns = make(
                loaded.model, layer, filters_, loaded.cfg, size=options.size, steps=options.steps, **extra
            )
        path = Path(options.out) / f"{layer.replace('.', '_')}_{options.mode}_filters.png"
        save_image(pattern_grid(patterns), path)
    _refreshed_run(Path(options.out), "filters", reporter)
    return FiltersResult(layer, path, options.count)


def _precision(requested: str, loaded: Any) -> str:
    """``bf16`` only where the hardware multiplies bf16 natively; elsewhere fp32, with a warning."""
    from convlens import _reporting
    from convlens.models.fast import bf16_pays

    if requested == "bf16" and not bf16_pays(loaded.device):
        _reporting.warn(
            f"--precision bf16: this {loaded.device.type} has no native bf16 (it would be slower): using fp32"
        )
        return "fp32"
    return requested


def _refreshed(folder: Path, reporter: Reporter | None) -> Path | None:
    """``folder/report.html`` rendered again when it exists (its path), else ``None``."""
    from convlens.service.reporting import refresh

    result = refresh(folder, reporter)
    return result.path if result is not None else None


def _refreshed_run(out: Path, extras: str, reporter: Reporter | None) -> Path | None:
    """``RUN/report.html`` again when ``out`` is ``RUN/activations`` or ``RUN/filters``: the page shows them."""
    run = out.resolve().parent
    if out.resolve().name != extras or not (run / "config.json").is_file():
        return None
    return _refreshed(run, reporter)
