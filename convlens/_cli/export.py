"""`convlens export`: a run folder or a pretrained model to ONNX or TorchScript, verified on real photos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from convlens._cli._output import echo


def export_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="RUN|MODEL",
            help="A run folder of `convlens train`, or a pretrained model name (efficientnet_lite0).",
        ),
    ],
    fmt: str = typer.Option(..., "--format", "-f", help="onnx | torchscript."),
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="File to write (default RUN/model.onnx, or ./NAME.onnx; .pt for torchscript)."
        ),
    ] = None,
    fast: bool = typer.Option(
        False,
        "--fast",
        help="Fold batch norm into the convolutions by convlens (torchscript: also channels-last weights; onnx: "
        "the exporters fold it anyway, so the graph is the same).",
    ),
    exporter: str = typer.Option(
        "auto",
        help="ONNX exporter: auto (dynamo, legacy on failure) | dynamo | legacy (5-10x quicker, deprecated).",
    ),
    images: Annotated[
        list[Path] | None,
        typer.Option(
            "--images", help="Photos (files or folders) to verify on (default: the run's data or pets-mini)."
        ),
    ] = None,
) -> None:
    """Export a trained run or a pretrained model; checks the file against PyTorch on real photos."""
    from convlens import service

    result = service.export(service.ExportOptions(source, fmt, out, fast, images, exporter))
    opset = f", opset {result.opset}" if result.opset is not None else ""
    echo(f"written: {result.path}")
    echo(
        f"{result.format} ({result.exporter}{opset}{', fast' if result.fast else ''}), input "
        f"{'x'.join(map(str, result.input_size))}: max abs logit diff {result.max_abs_diff:.2e}, top-1 agreement "
        f"{result.top1_agreement:.1%} on {result.verified_images} photos"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("export")(export_command)
