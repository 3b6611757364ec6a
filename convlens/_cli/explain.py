"""`convlens explain`, `convlens activations`, `convlens filters`: thin commands over convlens.explain."""

from __future__ import annotations

from pathlib import Path

import typer

from convlens._console import console


def _method_help() -> str:
    from convlens.explain.cam import explainers

    return "Comma-separated methods: " + ", ".join(explainers.names()) + "."


def _methods(value: str) -> list[str]:
    from convlens.explain.cam import explainers

    names = [m.strip() for m in value.split(",") if m.strip()]
    for name in names:
        explainers.entry(name)  # raises UnknownName listing the registered methods
    return names


def explain_command(
    source: Path = typer.Argument(..., help="An image file or a folder of images (streamed one at a time)."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Registry model name (pretrained weights when available offline)."
    ),
    checkpoint: str | None = typer.Option(
        None, "--checkpoint", help="A training run folder (or its model.safetensors)."
    ),
    method: str = typer.Option("gradcam", "--method", help=_method_help()),
    layer: str | None = typer.Option(
        None, "--layer", help="Layer to explain (default: the last conv layer with a spatial output)."
    ),
    cls: str | None = typer.Option(
        None, "--class", help="Class index or name to explain (default: the predicted class)."
    ),
    out: Path = typer.Option(Path("explanations"), "--out", "-o", help="Output folder."),
    precision: str = typer.Option("fp32", help="fp32 (exact) | bf16 (faster on AMX CPUs)."),
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
    from convlens.explain._inputs import load_model
    from convlens.explain.run import ExplainConfig, explain_images, parse_class

    loaded = load_model(model, checkpoint)
    config = ExplainConfig(
        source=source,
        out=out,
        methods=_methods(method),
        layer=layer,
        target=parse_class(cls, loaded.classes),
        precision=precision,
        figures=not no_figures,
        progress=not no_progress,
    )
    if evaluate:
        from convlens.explain.evaluate import evaluate_explanations

        summary = evaluate_explanations(loaded, config, boxes)
        for row in summary["leaderboard"]:
            console.print(
                "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                highlight=False,
            )
        return
    count = 0
    for record in explain_images(loaded, config):
        count += 1
        console.print(
            f"{record.image}  {record.method}  class {record.cls} ({record.class_name})  "
            f"score {record.score:.3f}  layer {record.layer}",
            highlight=False,
        )
    console.print(f"{count} maps written to {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("explain")(explain_command)
    app.command("activations")(activations_command)
    app.command("filters")(filters_command)


def activations_command(
    image: Path = typer.Argument(..., help="One image file."),
    model: str | None = typer.Option(None, "--model", "-m", help="Registry model name."),
    checkpoint: str | None = typer.Option(None, "--checkpoint", help="A training run folder."),
    layers: str | None = typer.Option(
        None, "--layers", help="Comma-separated layer names (default: the first 8 with spatial output)."
    ),
    channel: int = typer.Option(0, "--channel", help="Channel shown alone (first layer)."),
    out: Path = typer.Option(Path("activations"), "--out", "-o", help="Output folder."),
) -> None:
    """Intermediate activations: shapes printed, one grid PNG per layer (16 channels a row), one channel alone."""
    from convlens.explain._inputs import load_model, load_photo, model_input
    from convlens.explain.activations import capture_activations, default_layers, save_activation_images

    loaded = load_model(model, checkpoint)
    x = model_input(load_photo(image, int(loaded.cfg.get("input_size", (3,))[0])), loaded.cfg)[None]
    names = [n.strip() for n in layers.split(",")] if layers else default_layers(loaded.model, x)
    acts = capture_activations(loaded.model, x, names)
    for name, act in acts.items():
        console.print(f"{name:24s} {tuple(act.shape)}", highlight=False)
    written = save_activation_images(acts, out, channel)
    console.print(f"{len(written)} images written to {out}", highlight=False)


def filters_command(
    model: str | None = typer.Option(None, "--model", "-m", help="Registry model name."),
    checkpoint: str | None = typer.Option(None, "--checkpoint", help="A training run folder."),
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
    out: Path = typer.Option(Path("filters"), "--out", "-o", help="Output folder."),
) -> None:
    """Filter patterns: the input each filter of a layer responds to most, as an 8x8 grid with 5-px margins."""
    import torch

    from convlens.errors import ConfigError
    from convlens.explain._inputs import load_model
    from convlens.explain.filters import middle_conv_layer, pattern_grid, seed_patterns
    from convlens.explain.filters_regularised import regularised_patterns
    from convlens.explain.overlay import save_image

    if mode not in ("seed", "regularised"):
        raise ConfigError(f"--mode {mode!r} is unknown; use seed or regularised")
    loaded = load_model(model, checkpoint)
    channels = int(loaded.cfg.get("input_size", (3,))[0])
    layer = layer or middle_conv_layer(loaded.model, torch.rand(1, channels, size, size))
    options = {"precision": precision} if mode == "seed" else {}
    make = seed_patterns if mode == "seed" else regularised_patterns
    patterns = make(loaded.model, layer, list(range(count)), loaded.cfg, size=size, steps=steps, **options)
    path = out / f"{layer.replace('.', '_')}_{mode}_filters.png"
    save_image(pattern_grid(patterns), path)
    console.print(
        f"layer {layer}: {count} filter patterns ({mode}, {steps} steps) -> {path}", highlight=False
    )
