"""``split_pool``: a raw pool of photos into ``train/``, ``validation/``, ``test/`` class folders.

SRC is only read. DST gets the class folders and ``split.json`` (the plan: counts and file
names). Running the same split again changes nothing; a different one is refused unless
``overwrite`` is given, which removes only the files the earlier ``split.json`` records, and
still refuses when DST holds anything else. Symbolic links that lead out of SRC are skipped
unless ``follow_symlinks`` is given.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convlens._io import write_json_atomic
from convlens.data._split_output import (
    MANIFEST,
    Recorded,
    destination_state,
    foreign_entries,
    refuse_foreign,
    write_files,
)
from convlens.data._split_source import empty_class_message, resolve_source, scan_source, usable_sources
from convlens.data.folders import SPLIT_NAMES
from convlens.data.images import SkippedFile
from convlens.errors import ConfigError, SplitError

log = logging.getLogger(__name__)

LINK_MODES = ("copy", "hardlink", "symlink")
ORDERS = ("natural", "random")


@dataclass
class SplitPlan:
    """Which source file goes to which ``split/class`` folder, and the options that made it."""

    source: str
    files: dict[str, dict[str, list[str]]]
    order: str
    seed: int | None
    link: str
    plural: bool = False
    skipped: list[SkippedFile] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """``{split: {class: count}}``."""
        return {s: {c: len(names) for c, names in by_class.items()} for s, by_class in self.files.items()}

    def folder_of(self, cls: str) -> str:
        """The class folder name (``cats`` for ``cat`` when ``plural``, as in the book)."""
        return cls + "s" if self.plural and not cls.endswith("s") else cls

    def to_json(self) -> dict:
        """What ``split.json`` holds."""
        return {
            "source": self.source,
            "order": self.order,
            "seed": self.seed,
            "link": self.link,
            "plural": self.plural,
            "counts": self.counts,
            "files": {
                s: {self.folder_of(c): [Path(p).name for p in f] for c, f in b.items()}
                for s, b in self.files.items()
            },
        }

    def count_lines(self) -> list[str]:
        """The seed's words: ``Train Cat Image Count: 1000`` for every split and class."""
        return [
            f"{split.capitalize()} {cls.capitalize()} Image Count: {n}"
            for split, by_class in self.counts.items()
            for cls, n in by_class.items()
        ]


@dataclass
class SplitResult:
    """What :func:`split_pool` did: the plan, and whether DST changed."""

    plan: SplitPlan
    destination: Path
    status: str  # "written", "unchanged", "dry-run"
    written: int = 0
    removed: int = 0  # files of an earlier split removed by ``overwrite``


def per_class_counts(
    n: int, counts: tuple[int, int, int] | None, fractions: tuple[float, ...] | None, cls: str
):
    """``(train, validation, test)`` sizes for a class of ``n`` files.

    Raises:
        SplitError: more images asked than the class has.
    """
    if counts is not None:
        wanted = tuple(int(c) for c in counts)
        if sum(wanted) > n:
            raise SplitError(
                f"class {cls!r} has {n} images but {' + '.join(map(str, wanted))} = {sum(wanted)} were asked; "
                f"lower --train/--val/--test"
            )
        return wanted
    cuts = [round(f * n) for f in np.cumsum(fractions)]
    return (cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1])


def _check_options(counts, fractions, order: str, link: str) -> None:
    if (counts is None) == (fractions is None):
        raise ConfigError(
            "give either per-class counts (--train/--val/--test) or --fractions, not both or neither"
        )
    if fractions is not None and (
        len(fractions) != 3
        or not all(math.isfinite(f) and f >= 0 for f in fractions)
        or sum(fractions) > 1 + 1e-9
    ):
        raise ConfigError(
            f"--fractions needs three non-negative numbers summing to at most 1, like 0.8,0.1,0.1; "
            f"got {fractions}"
        )
    if counts is not None and any(c < 0 for c in counts):
        raise ConfigError(f"counts must not be negative; got {counts}")
    if order not in ORDERS:
        raise ConfigError(f"--order must be one of {ORDERS}, not {order!r}")
    if link not in LINK_MODES:
        raise ConfigError(f"--link must be one of {LINK_MODES}, not {link!r}")


def plan_split(
    src: Path,
    counts: tuple[int, int, int] | None = None,
    fractions: tuple[float, float, float] | None = None,
    order: str = "natural",
    seed: int = 0,
    link: str = "copy",
    plural: bool = False,
    follow_symlinks: bool = False,
) -> SplitPlan:
    """Decide the split without touching the disk (see :func:`split_pool` for the arguments)."""
    _check_options(counts, fractions, order, link)
    found, skipped = scan_source(src)
    by_class, left_out = usable_sources(src, found, follow_symlinks)
    skipped += left_out
    if not by_class:
        raise SplitError(f"{src} holds no images; expected <class>.<n>.jpg files or <class>/ sub-folders")
    plan = SplitPlan(str(src), {}, order, seed if order == "random" else None, link, plural, skipped)
    _check_folder_names(plan, list(by_class))
    files: dict[str, dict[str, list[str]]] = {s: {} for s in SPLIT_NAMES}
    rng = np.random.default_rng(seed)
    for cls, paths in by_class.items():
        if not paths:
            raise SplitError(empty_class_message(src, cls, found[cls], left_out))
        ordered = [str(p) for p in paths]
        if order == "random":
            ordered = [ordered[i] for i in rng.permutation(len(ordered))]
        sizes = per_class_counts(len(ordered), counts, fractions, cls)
        start = 0
        for split, size in zip(SPLIT_NAMES, sizes):
            files[split][cls] = ordered[start : start + size]
            start += size
    plan.files = {s: b for s, b in files.items() if sum(map(len, b.values()))}
    return plan


def _check_folder_names(plan: SplitPlan, classes: list[str]) -> None:
    folders: dict[str, str] = {}
    for cls in classes:
        other = folders.setdefault(plan.folder_of(cls), cls)
        if other != cls:
            raise SplitError(
                f"classes {other!r} and {cls!r} would share the folder {plan.folder_of(cls)!r}; "
                "leave out --plural or rename one class"
            )


def split_pool(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    counts: tuple[int, int, int] | None = None,
    fractions: tuple[float, float, float] | None = None,
    order: str = "natural",
    seed: int = 0,
    link: str = "copy",
    overwrite: bool = False,
    dry_run: bool = False,
    plural: bool = False,
    follow_symlinks: bool = False,
) -> SplitResult:
    """Split a pool of photos into ``DST/train|validation|test/<class>/``.

    Args:
        src: a flat pool (``cat.12.jpg``, ``dog_3.png``), a folder of class sub-folders, or a
            built-in pool name such as ``pets-mini``. Never modified.
        dst: the output folder (outside ``src``).
        counts: per-class ``(train, validation, test)`` counts, e.g. ``(1000, 500, 500)``.
        fractions: per-class fractions instead, e.g. ``(0.8, 0.1, 0.1)``.
        order: ``natural`` (``cat.0`` … ``cat.999`` go to train, as in the book) or ``random``.
        seed: seed of the stratified ``random`` order.
        link: ``copy`` (plain new files, mode 0o666 less the umask), ``hardlink`` or ``symlink``.
        overwrite: replace a different split already in ``dst``: only the files its ``split.json``
            records are removed, and only when ``dst`` holds nothing else.
        dry_run: only plan; write nothing.
        plural: name class folders ``cats``/``dogs`` as the book does.
        follow_symlinks: also take symbolic links whose target lies outside ``src`` (skipped and
            reported otherwise).

    Raises:
        SplitError: nested folders, too few images, a DST holding other files, or a failed link.
    """
    src_path = resolve_source(src)
    dst_path = Path(dst).expanduser().resolve()
    _check_not_nested(src_path, dst_path)
    plan = plan_split(src_path, counts, fractions, order, seed, link, plural, follow_symlinks)
    if dry_run:
        return SplitResult(plan, dst_path, "dry-run")
    state, recorded = _check_destination(dst_path, plan, overwrite)
    files = {s: {plan.folder_of(c): p for c, p in b.items()} for s, b in plan.files.items()}
    written, removed = write_files(files, dst_path, link, staged=state != "same", old=recorded)
    if state == "same" and not written:
        return SplitResult(plan, dst_path, "unchanged")
    write_json_atomic(dst_path / MANIFEST, plan.to_json())
    return SplitResult(plan, dst_path, "written", written, removed)


def _check_destination(dst_path: Path, plan: SplitPlan, overwrite: bool) -> tuple[str, Recorded | None]:
    """``dst_path``'s state against ``plan`` (``same``, ``different``, ``empty``...) and the split it records;
    refuses a folder holding files convlens did not write, and another split without ``overwrite``."""
    state, recorded = destination_state(dst_path, plan.to_json())
    if state == "foreign":
        raise SplitError(
            f"{dst_path} already holds something else (files but no split.json of an earlier split); "
            "convlens never deletes files it did not write: choose a new or empty DST"
        )
    if state == "different" and not overwrite:
        raise SplitError(
            f"{dst_path} already holds something else (another split); choose an empty DST or pass "
            "--overwrite to replace the files its split.json records"
        )
    if state == "different" and recorded is not None:
        foreign = foreign_entries(dst_path, recorded)
        if foreign:
            refuse_foreign(dst_path, foreign)
    return state, recorded


def _check_not_nested(src: Path, dst: Path) -> None:
    if dst == src or src in dst.parents:
        raise SplitError(
            f"DST {dst} is inside SRC {src}; choose a DST outside the source (SRC is never written to)"
        )
    if dst in src.parents:
        raise SplitError(f"SRC {src} is inside DST {dst}; choose a DST that does not contain the source")
