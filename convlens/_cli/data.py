"""`convlens split` and `convlens data ...`: parse, call the service, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from convlens._cli._console import console
from convlens._cli._output import cell, echo, echo_err
from convlens._cli._typer import App
from convlens.errors import DataError

data_app = App(help="Inspect datasets, preview augmentation, show the decode cache, list the built-ins.")


def split_command(
    src: Annotated[
        str,
        typer.Argument(
            metavar="SRC",
            help="Flat pool (cat.12.jpg ...), class-folder root, or a built-in pool (pets-mini).",
        ),
    ],
    dst: Annotated[
        Path, typer.Argument(metavar="DST", help="Output folder for train/ validation/ test/ (outside SRC).")
    ],
    train: Annotated[int | None, typer.Option("--train", help="Train images per class (book: 1000).")] = None,
    val: Annotated[int | None, typer.Option("--val", help="Validation images per class (book: 500).")] = None,
    test: Annotated[int | None, typer.Option("--test", help="Test images per class (book: 500).")] = None,
    fractions: Annotated[
        str | None, typer.Option("--fractions", help="Per-class fractions train,val,test: 0.8,0.1,0.1.")
    ] = None,
    order: Annotated[
        str, typer.Option("--order", help="natural (cat.0 ... in order, as the book) | random.")
    ] = "natural",
    seed: Annotated[int, typer.Option("--seed", help="Seed of --order random (stratified per class).")] = 0,
    link: Annotated[str, typer.Option("--link", help="copy | hardlink | symlink.")] = "copy",
    plural: Annotated[
        bool, typer.Option("--plural", help="Name class folders cats/dogs as the book does.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a different split already in DST.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; write nothing.")] = False,
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks", help="Also take symbolic links that lead outside SRC (skipped otherwise)."
        ),
    ] = False,
) -> None:
    """Split a pool of photos into DST/train|validation|test/<class>/ and print the counts."""
    from convlens import service

    counts = None if train is None and val is None and test is None else (train or 0, val or 0, test or 0)
    options = service.SplitOptions(
        src,
        dst,
        counts,
        service.parse_fractions(fractions),
        order,
        seed,
        link,
        overwrite,
        dry_run,
        plural,
        follow_symlinks,
    )
    result = service.split(options)
    if dry_run:
        _print_plan(result.plan, result.destination)
    for line in result.plan.count_lines():
        echo(line)
    for item in result.plan.skipped:
        echo_err(f"skipped {item.path}: {item.reason}", "yellow")
    words = {"written": f"wrote {result.written} files", "unchanged": "already up to date, nothing changed"}
    echo(f"{result.destination}: {words.get(result.status, 'dry run, nothing written')}")


def _print_plan(plan, destination: Path) -> None:
    echo(f"Plan ({plan.order} order, {plan.link}) from {plan.source} into {destination}:")
    for split, by_class in plan.files.items():
        for cls, paths in by_class.items():
            names = [Path(p).name for p in paths]
            span = f"{names[0]} ... {names[-1]}" if len(names) > 1 else (names[0] if names else "-")
            echo(f"  {split}/{plan.folder_of(cls)}: {len(names)} files ({span})")


@data_app.command("info")
def info_command(
    folder: Annotated[
        str,
        typer.Argument(
            metavar="FOLDER", help="A split folder, class-folder root, flat pool, or built-in pool."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Counts, image sizes and colour modes per split and class; lists bad files (exit 1 if any is unreadable)."""
    from convlens import service

    info = service.info(folder)
    if as_json:
        echo(json.dumps(info.to_json(), indent=2))
    else:
        _print_info(info)
    if info.unreadable:
        raise DataError(f"{len(info.unreadable)} unreadable file(s) in {info.root}; remove or replace them")


def _print_info(info) -> None:
    table = Table(title=cell(info.root))
    for column in ("split", "class", "count", "min size", "median size", "max size", "modes"):
        table.add_column(column, justify="right" if "size" in column or column == "count" else "left")
    for split, by_class in info.splits.items():
        for cls, c in by_class.items():
            sizes = [f"{s[0]}x{s[1]}" if s else "-" for s in (c.min_size, c.median_size, c.max_size)]
            modes = ", ".join(f"{m} {n}" for m, n in c.modes.items())
            table.add_row(cell(split), cell(cls), str(c.count), *sizes, cell(modes))
    console.print(table)
    for title, items in (("unreadable", info.unreadable), ("suspicious", info.suspicious)):
        if items:
            echo(f"{len(items)} {title} file(s):", "bold")
        for item in items:
            echo(f"  {item.path}: {item.reason}")


@data_app.command("augment-preview")
def augment_preview_command(
    image: Annotated[Path, typer.Argument(metavar="IMAGE", help="The photo to augment (never modified).")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="The contact sheet to write (.png or .jpg).")],
    augment: Annotated[
        str, typer.Option("--augment", help="Preset plus overrides: book | book,rotation=20,zoom=0.1.")
    ] = "book",
    count: Annotated[int, typer.Option("--count", "-n", help="Number of augmented copies.")] = 8,
    size: Annotated[int, typer.Option("--size", help="Tile side in pixels.")] = 150,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same sheet).")] = 0,
) -> None:
    """Write a contact sheet: the original (red frame) and augmented copies."""
    from convlens import service

    result = service.augment_preview(service.PreviewOptions(image, out_path, augment, count, size, seed))
    echo(f"{result.path}: original + {result.count} copies ({result.description})")


@data_app.command("cache")
def cache_command(
    clear: Annotated[
        bool, typer.Option("--clear", help="Delete the cached images (they are rebuilt on demand).")
    ] = False,
) -> None:
    """Show (or clear) the decode-once image cache under $CONVLENS_CACHE (default ~/.cache/convlens)."""
    from convlens import service

    cache = service.cache(clear)
    if clear:
        echo(f"cleared {len(cache.entries)} cache folder(s), {cache.total / 1e6:.1f} MB")
    else:
        for folder, size in cache.entries:
            echo(f"{size / 1e6:9.1f} MB  {folder.name}")
        echo(f"{cache.root}: {len(cache.entries)} folder(s), {cache.total / 1e6:.1f} MB")
    if cache.unmarked:
        echo_err(
            f"left alone {len(cache.unmarked)} folder(s) convlens did not make under {cache.root / 'images'}"
        )


@data_app.command("builtins")
def builtins_command() -> None:
    """List the built-in datasets (they need nothing on disk)."""
    from convlens.data.builtin import builtins

    for entry in builtins.entries():
        echo(f"{entry.name}: {entry.meta.get('description', '')}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("split")(split_command)
    app.add_typer(data_app, name="data")
