"""`convlens` commands of the models area: ``models list``, ``summary``, ``predict``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from convlens._cli._console import console
from convlens._cli._output import cell, echo, echo_err
from convlens._cli._typer import App, views_help, with_lazy_help

models_app = App(help="The networks convlens can build.")


# Below this width the table's description column would wrap a word a line: the description goes on its own line.
WIDE = 120


@models_app.command("list")
def list_models() -> None:
    """List the registered networks, their family, default input size and weights."""
    from convlens import service

    models = service.list_models()
    if console.width >= WIDE:
        _models_table(models)
    else:
        _models_lines(models, console.width)


def _models_table(models: list) -> None:
    from rich.table import Table

    table = Table()
    for column in ("name", "family", "input", "classes", "weights", "description"):
        table.add_column(column, no_wrap=column != "description", overflow="fold")
    for info in models:
        size = "x".join(map(str, info.input_size))
        weights = "yes" if info.weights else "-"
        table.add_row(info.name, info.family, size, str(info.num_classes), weights, cell(info.description))
    console.print(table)


def _models_lines(models: list, width: int) -> None:
    """Narrow terminals: one line of facts per network, its description indented below it."""
    import textwrap

    rows = [
        (m.name, m.family, "x".join(map(str, m.input_size)), str(m.num_classes), "yes" if m.weights else "-")
        for m in models
    ]
    header = ("name", "family", "input", "classes", "weights")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v.rjust(w) if i == 3 else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))

    echo(line(header).rstrip(), "bold")
    for info, row in zip(models, rows):
        echo(line(row).rstrip())
        for text in textwrap.wrap(info.description, max(20, width - 4), break_on_hyphens=False):
            echo(f"    {text}", "dim")


def summary(
    name: str = typer.Argument(..., metavar="MODEL", help="Model name (see `convlens models list`)."),
    input_size: int | None = typer.Option(
        None, "--input-size", help="Square input size in pixels (default: the model's)."
    ),
    no_top: bool = typer.Option(
        False, "--no-top", help="Without the classifier (the conv base), where the model has one."
    ),
    num_classes: int | None = typer.Option(None, "--num-classes", help="Outputs of the head."),
) -> None:
    """Print a Keras-like summary: layers, output shapes, parameters."""
    from convlens import service
    from convlens.models.summary import render

    result = service.summary(service.SummaryOptions(name, input_size, no_top, num_classes))
    console.print(render(result, title=name))


def predict(
    images: list[Path] = typer.Argument(..., metavar="IMAGE...", help="Image files or folders."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="A pretrained model name (default efficientnet_lite0)."
    ),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="A run folder of `convlens train`."),
    weights: Path | None = typer.Option(None, "--weights", help="An explicit weights file for --model."),
    topk: int = typer.Option(3, "--topk", min=1, help="Classes per image."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Images per forward pass."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: [{image, top: [{wnid, label, prob}]}]."),
    fast: bool = typer.Option(
        False, "--fast", help="bf16 + channels-last + folded batch norm (about 5x faster on CPU)."
    ),
    tta: str = typer.Option("none", "--tta", help="Test-time views to average (see below)."),
) -> None:
    """Top-k predictions (wnid, label, probability) for images, like Keras' decode_predictions."""
    from convlens import service

    options = service.PredictOptions(
        images, model, checkpoint, weights, topk, batch_size, fast, progress=not as_json, tta=tta
    )
    result = service.predict(options)
    if as_json:
        echo(json.dumps(result.records, indent=2))
    else:
        for item in result.records:
            echo(item["image"], "bold")
            for rank, top in enumerate(item["top"], 1):
                echo(f"  {rank}. ('{top['wnid']}', '{top['label']}', {top['prob']:.4f})")
    for item in result.skipped:
        echo_err(f"skipped {item.path}: {item.reason}", "yellow")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(models_app, name="models")
    app.command("summary")(summary)
    app.command("predict", cls=with_lazy_help(tta=views_help))(predict)
