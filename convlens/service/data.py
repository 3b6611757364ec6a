"""Data actions: split a pool, inspect a folder, preview the augmentation, look after the decode cache."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from convlens._reporting import Reporter, use_reporter
from convlens.errors import ConfigError


@dataclass
class SplitOptions:
    """``convlens split``: see :func:`convlens.data.split_pool` for the meaning of each field."""

    src: str
    dst: Path
    counts: tuple[int, int, int] | None = None
    fractions: tuple[float, float, float] | None = None
    order: str = "natural"
    seed: int = 0
    link: str = "copy"
    overwrite: bool = False
    dry_run: bool = False
    plural: bool = False
    follow_symlinks: bool = False


def split(options: SplitOptions, reporter: Reporter | None = None):  # -> convlens.data.split.SplitResult
    """Split a pool of photos into ``DST/train|validation|test/<class>/``; SRC is only read."""
    from convlens.data.split import split_pool

    with use_reporter(reporter):
        return split_pool(
            options.src,
            options.dst,
            options.counts,
            options.fractions,
            options.order,
            options.seed,
            options.link,
            options.overwrite,
            options.dry_run,
            options.plural,
            follow_symlinks=options.follow_symlinks,
        )


def parse_fractions(text: str | None) -> tuple[float, float, float] | None:
    """``"0.8,0.1,0.1"`` (or two numbers, test 0) as finite fractions; a clear error otherwise."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) == 2:
        values = (*values, 0.0)
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise ConfigError(f"--fractions must be three numbers like 0.8,0.1,0.1; got {text!r}")
    return values  # type: ignore[return-value]


def info(folder: str, reporter: Reporter | None = None):  # -> convlens.data.info.DatasetInfo
    """Counts, sizes and colour modes per split and class, and the unreadable / suspicious files."""
    from convlens.data.info import dataset_info

    with use_reporter(reporter):
        return dataset_info(folder)


@dataclass
class PreviewOptions:
    """``convlens data augment-preview``."""

    image: Path
    out: Path
    augment: str = "book"
    count: int = 8
    size: int = 150
    seed: int = 0


@dataclass
class PreviewResult:
    path: Path
    description: str
    count: int


def augment_preview(options: PreviewOptions, reporter: Reporter | None = None) -> PreviewResult:
    """A contact sheet: the original (red frame) and ``count`` augmented copies."""
    from convlens.data.augment import Augmentation, describe
    from convlens.data.preview import augment_preview as write_preview

    with use_reporter(reporter):
        aug = Augmentation.parse(options.augment)
        path = write_preview(
            options.image, options.out, aug, count=options.count, size=options.size, seed=options.seed
        )
    return PreviewResult(Path(path), describe(aug), options.count)


@dataclass
class CacheInfo:
    """The decode-once cache: where it is, its entries ``(folder, bytes)``, and folders it leaves alone."""

    root: Path
    entries: list[tuple[Path, int]] = field(default_factory=list)
    cleared: bool = False
    unmarked: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(size for _, size in self.entries)


def cache(clear: bool = False) -> CacheInfo:
    """The decode-once image cache, and with ``clear`` its entries removed (only folders convlens made)."""
    from convlens.data.cache import cache_entries, clear_cache

    listing = cache_entries()
    if clear:
        clear_cache()
    return CacheInfo(listing.location, list(listing.entries), clear, list(listing.unmarked))
