"""`convlens explain`, `convlens activations`, `convlens filters`: parse, call the service, print."""

from __future__ import annotations

from pathlib import Path

import typer

from convlens._cli._output import echo, echo_err
from convlens._cli._typer import with_lazy_help


def _method_help() -> str:
    from convlens.explain.cam import explainers

    return "Comma-separated methods: " + ", ".join(explainers.names()) + "."


def _names(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def explain_command(
    source: Path = typer.Argument(
        ..., metavar="SRC", help="An image file or a folder of images (streamed one at a time)."
    ),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Registry model name (pretrained weights when available offline)."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="A training run folder (or its model.safetensors)."
    ),
    method: str = typer.Option(
        "gradcam", "--method", help="Comma-separated methods (listed in `convlens explain --help`)."
    ),
    layer: str | None = typer.Option(
        None, "--layer", help="Layer to explain (default: the last conv layer with a spatial output)."
    ),
    cls: str | None = typer.Option(
        None, "--class", help="Class index or name to explain (default: the predicted class)."
    ),
    out_dir: Path = typer.Option(Path("explanations"), "--out", "-o", help="Output folder."),
    precision: str = typer.Option("fp32", help="fp32 (exact) | bf16 (faster on AMX CPUs)."),
    cmap: str = typer.Option(
        "jet", "--cmap", help="Overlay colours: jet (the book's) | viridis (colour-blind-safe)."
    ),
    no_figures: bool = typer.Option(
        False, "--no-figures", help="Skip the 3-panel figures (faster on big folders)."
    ),
    evaluate: bool = typer.Option(
        False, "--evaluate", help="Faithfulness metrics per method and image, summary.json and a leaderboard."
    ),
    boxes: Path | None = typer.Option(
        None, "--boxes", help="JSON or CSV of boxes per image for the pointing game (with --evaluate)."
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
) -> None:
    """Class activation maps: per image and method a .npy heatmap in [0, 1], an overlay and a 3-panel figure."""
    from convlens import service

    options = service.ExplainOptions(
        source,
        out_dir,
        model,
        checkpoint,
        _names(method) or ["gradcam"],
        layer,
        cls,
        precision,
        not no_figures,
        evaluate,
        boxes,
        cmap,
        not no_progress,
    )
    _render(service.explain(options))


def _render(result) -> None:
    if result.summary is not None:
        for row in result.summary["leaderboard"]:
            echo("  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    for record in result.records:
        echo(
            f"{record.image}  {record.method}  class {record.cls} ({record.class_name})  "
            f"score {record.score:.3f}  layer {record.layer}"
        )
    for item in result.skipped:
        echo_err(f"skipped {item.path}: {item.reason}", "yellow")
    if result.summary is None:
        echo(f"{len(result.records)} maps written to {result.out}")


def activations_command(
    image: Path = typer.Argument(..., metavar="IMAGE", help="One image file."),
    model: str | None = typer.Option(None, "--model", "-m", help="Registry model name."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="A training run folder."),
    layers: str | None = typer.Option(
        None, "--layers", help="Comma-separated layer names (default: the first 8 with spatial output)."
    ),
    channel: int = typer.Option(0, "--channel", help="Channel shown alone (first layer)."),
    out_dir: Path = typer.Option(Path("activations"), "--out", "-o", help="Output folder."),
) -> None:
    """Intermediate activations: shapes printed, one grid PNG per layer (16 channels a row), one channel alone."""
    from convlens import service

    options = service.ActivationsOptions(
        image, out_dir, _names(layers), channel, model=model, checkpoint=checkpoint
    )
    result = service.activations(options)
    for name, shape in result.shapes.items():
        echo(f"{name:24s} {shape}")
    echo(f"{len(result.files)} images written to {out_dir}")


def filters_command(
    model: str | None = typer.Option(None, "--model", "-m", help="Registry model name."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="A training run folder."),
    layer: str | None = typer.Option(
        None, "--layer", help="Conv layer (default: a middle conv layer, named in the output)."
    ),
    count: int = typer.Option(64, "--count", help="Filters 0..count-1, optimised together in one batch."),
    size: int = typer.Option(64, "--size", help="Pattern side in pixels."),
    steps: int = typer.Option(40, "--steps", help="Gradient-ascent steps."),
    mode: str = typer.Option(
        "seed", "--mode", help="seed (the book's math) | regularised (FFT, decorrelated colour, jitter)."
    ),
    precision: str = typer.Option(
        "fp32", help="seed mode: fp32 | bf16 (autocast; about 2x faster on AMX CPUs)."
    ),
    out_dir: Path = typer.Option(Path("filters"), "--out", "-o", help="Output folder."),
) -> None:
    """Filter patterns: the input each filter of a layer responds to most, as an 8x8 grid with 5-px margins."""
    from convlens import service

    options = service.FiltersOptions(out_dir, model, checkpoint, layer, count, size, steps, mode, precision)
    result = service.filters(options)
    echo(f"layer {result.layer}: {result.count} filter patterns ({mode}, {steps} steps) -> {result.path}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("explain", cls=with_lazy_help(method=_method_help))(explain_command)
    app.command("activations")(activations_command)
    app.command("filters")(filters_command)
