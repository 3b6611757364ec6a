"""`convlens split` and `convlens data ...`: thin commands over convlens.data."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from convlens._console import console, err_console
from convlens.errors import ConfigError, DataError

data_app = typer.Typer(help="Inspect datasets and preview augmentation.", no_args_is_help=True)


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
    from convlens.data.split import split_pool

    counts = _counts(train, val, test)
    parsed = _fractions(fractions)
    result = split_pool(
        src,
        dst,
        counts,
        parsed,
        order,
        seed,
        link,
        overwrite,
        dry_run,
        plural,
        follow_symlinks=follow_symlinks,
    )
    plan = result.plan
    if dry_run:
        _print_plan(plan, result.destination)
    for line in plan.count_lines():
        console.print(line, highlight=False, soft_wrap=True)
    for item in plan.skipped:
        err_console.print(
            f"[yellow]skipped[/yellow] {item.path}: {item.reason}", highlight=False, soft_wrap=True
        )
    words = {"written": f"wrote {result.written} files", "unchanged": "already up to date, nothing changed"}
    console.print(
        f"{result.destination}: {words.get(result.status, 'dry run, nothing written')}", highlight=False
    )


def _counts(train: int | None, val: int | None, test: int | None) -> tuple[int, int, int] | None:
    if train is None and val is None and test is None:
        return None
    return (train or 0, val or 0, test or 0)


def _fractions(text: str | None) -> tuple[float, float, float] | None:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--fractions must be three numbers like 0.8,0.1,0.1; got {text!r}") from None
    if len(values) == 2:
        values = (*values, 0.0)
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise ConfigError(f"--fractions must be three numbers like 0.8,0.1,0.1; got {text!r}")
    return values  # type: ignore[return-value]


def _print_plan(plan, destination: Path) -> None:
    console.print(
        f"Plan ({plan.order} order, {plan.link}) from {plan.source} into {destination}:", highlight=False
    )
    for split, by_class in plan.files.items():
        for cls, paths in by_class.items():
            names = [Path(p).name for p in paths]
            span = f"{names[0]} ... {names[-1]}" if len(names) > 1 else (names[0] if names else "-")
            console.print(
                f"  {split}/{plan.folder_of(cls)}: {len(names)} files ({span})",
                highlight=False,
                soft_wrap=True,
            )


@data_app.command("info")
def info_command(
    folder: Annotated[
        str, typer.Argument(help="A split folder, class-folder root, flat pool, or built-in pool.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Counts, image sizes and colour modes per split and class; lists bad files (exit 1 if any is unreadable)."""
    from convlens.data.info import dataset_info

    info = dataset_info(folder)
    if as_json:
        console.print_json(json.dumps(info.to_json()))
    else:
        _print_info(info)
    if info.unreadable:
        raise DataError(f"{len(info.unreadable)} unreadable file(s) in {info.root}; remove or replace them")


def _print_info(info) -> None:
    table = Table(title=info.root)
    for column in ("split", "class", "count", "min size", "median size", "max size", "modes"):
        table.add_column(column, justify="right" if "size" in column or column == "count" else "left")
    for split, by_class in info.splits.items():
        for cls, c in by_class.items():
            sizes = [f"{s[0]}x{s[1]}" if s else "-" for s in (c.min_size, c.median_size, c.max_size)]
            modes = ", ".join(f"{m} {n}" for m, n in c.modes.items())
            table.add_row(split, cls, str(c.count), *sizes, modes)
    console.print(table)
    for title, items in (("unreadable", info.unreadable), ("suspicious", info.suspicious)):
        if items:
            console.print(f"[bold]{len(items)} {title} file(s):[/bold]")
        for item in items:
            console.print(f"  {item.path}: {item.reason}", highlight=False, soft_wrap=True)


@data_app.command("augment-preview")
def augment_preview_command(
    image: Annotated[Path, typer.Argument(help="The photo to augment (never modified).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The contact sheet to write (.png or .jpg).")],
    augment: Annotated[
        str, typer.Option("--augment", help="Preset plus overrides: book | book,rotation=20,zoom=0.1.")
    ] = "book",
    count: Annotated[int, typer.Option("--count", "-n", help="Number of augmented copies.")] = 8,
    size: Annotated[int, typer.Option("--size", help="Tile side in pixels.")] = 150,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same sheet).")] = 0,
) -> None:
    """Write a contact sheet: the original (red frame) and augmented copies."""
    from convlens.data.augment import Augmentation, describe
    from convlens.data.preview import augment_preview

    aug = Augmentation.parse(augment)
    path = augment_preview(image, out, aug, count=count, size=size, seed=seed)
    console.print(f"{path}: original + {count} copies ({describe(aug)})", highlight=False, soft_wrap=True)


@data_app.command("cache")
def cache_command(
    clear: Annotated[
        bool, typer.Option("--clear", help="Delete the cached images (they are rebuilt on demand).")
    ] = False,
) -> None:
    """Show (or clear) the decode-once image cache under $CONVLENS_CACHE (default ~/.cache/convlens)."""
    from convlens.data.cache import cache_entries, clear_cache

    listing = cache_entries()
    if clear:
        freed = clear_cache()
        console.print(
            f"cleared {len(listing.entries)} cache folder(s), {freed / 1e6:.1f} MB",
            highlight=False,
            soft_wrap=True,
        )
    else:
        for folder, size in listing.entries:
            console.print(f"{size / 1e6:9.1f} MB  {folder.name}", highlight=False, soft_wrap=True)
        console.print(
            f"{listing.location}: {len(listing.entries)} folder(s), {listing.total_bytes / 1e6:.1f} MB",
            highlight=False,
            soft_wrap=True,
        )
    if listing.unmarked:
        err_console.print(
            f"left alone {len(listing.unmarked)} folder(s) convlens did not make under "
            f"{listing.location / 'images'}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@data_app.command("builtins")
def builtins_command() -> None:
    """List the built-in datasets (they need nothing on disk)."""
    from convlens.data.builtin import builtins

    for entry in builtins.entries():
        console.print(f"{entry.name}: {entry.meta.get('description', '')}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("split")(split_command)
    app.add_typer(data_app, name="data")
