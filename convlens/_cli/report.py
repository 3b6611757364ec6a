"""`convlens report`: parse, call the service, print where the page went."""

from __future__ import annotations

from pathlib import Path

import typer

from convlens._cli._output import echo


def report_command(
    paths: list[Path] = typer.Argument(
        ...,
        metavar="RUN...",
        help="A run folder (its story), several (a comparison), or an explain --out folder.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="The .html file to write (default RUN/report.html; report.html for several runs).",
    ),
    cmap: str = typer.Option(
        "jet", "--cmap", help="Overlay colours: jet (the book's) | viridis (colour-blind-safe)."
    ),
    cams: bool = typer.Option(
        True, "--cams/--no-cams", help="Grad-CAM overlays of confused images and top losses."
    ),
    top_losses: int = typer.Option(16, "--top-losses", min=0, help="How many of the largest losses to show."),
    per_cell: int = typer.Option(
        12, "--per-cell", min=1, help="Images shown per confusion-matrix cell at most."
    ),
) -> None:
    """One self-contained HTML page (works offline, no JavaScript): curves, evaluation, clickable confusion cells
    with Grad-CAM, top losses, what the network sees, skipped files."""
    from convlens import service

    result = service.report(service.ReportOptions(paths, out, cmap, cams, top_losses, per_cell))
    echo(f"{result.kind} report: {result.path} ({result.bytes / 1e6:.2f} MB, {result.seconds:.1f} s)")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("report")(report_command)
