"""``split_pool``: a raw pool of photos into ``train/``, ``validation/``, ``test/`` class folders.

SRC is only read. DST gets the class folders and ``split.json`` (the plan: counts and file
names). Running the same split again changes nothing; a different one is refused unless
``overwrite`` is given, which replaces only the split folders and ``split.json``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convlens._io import write_json_atomic
from convlens.data.builtin import builtin_pool
from convlens.data.folders import SPLIT_NAMES, is_flat_pool, scan_class_folders, scan_pool
from convlens.data.images import SkippedFile
from convlens.errors import ConfigError, SplitError

log = logging.getLogger(__name__)

MANIFEST = "split.json"
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


def resolve_source(src: str | os.PathLike[str]) -> Path:
    """A built-in pool name (``pets-mini``) or a folder path."""
    builtin = builtin_pool(str(src))
    path = builtin if builtin is not None else Path(src).expanduser()
    if not path.is_dir():
        raise SplitError(f"source {src} is not a folder (nor a built-in pool such as pets-mini)")
    return path.resolve()


def scan_source(src: Path) -> tuple[dict[str, list[Path]], list[SkippedFile]]:
    """Files per class of a flat pool (class from the file name) or of class sub-folders."""
    if is_flat_pool(src):
        return scan_pool(src)
    by_class, skipped = scan_class_folders(src, require_images=False)
    return by_class, skipped


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
        len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) > 1 + 1e-9
    ):
        raise ConfigError(
            f"--fractions needs three non-negative numbers summing to at most 1; got {fractions}"
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
) -> SplitPlan:
    """Decide the split without touching the disk (see :func:`split_pool` for the arguments)."""
    _check_options(counts, fractions, order, link)
    by_class, skipped = scan_source(src)
    if not by_class:
        raise SplitError(f"{src} holds no images; expected <class>.<n>.jpg files or <class>/ sub-folders")
    files: dict[str, dict[str, list[str]]] = {s: {} for s in SPLIT_NAMES}
    rng = np.random.default_rng(seed)
    for cls, paths in by_class.items():
        if not paths:
            raise SplitError(f"class folder {src / cls} is empty; add images or remove it")
        ordered = [str(p) for p in paths]
        if order == "random":
            ordered = [ordered[i] for i in rng.permutation(len(ordered))]
        sizes = per_class_counts(len(ordered), counts, fractions, cls)
        start = 0
        for split, size in zip(SPLIT_NAMES, sizes):
            files[split][cls] = ordered[start : start + size]
            start += size
    files = {s: b for s, b in files.items() if sum(map(len, b.values()))}
    return SplitPlan(str(src), files, order, seed if order == "random" else None, link, plural, skipped)


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
        link: ``copy``, ``hardlink`` or ``symlink``.
        overwrite: replace a different split already in ``dst``.
        dry_run: only plan; write nothing.
        plural: name class folders ``cats``/``dogs`` as the book does.

    Raises:
        SplitError: nested folders, too few images, a different split in ``dst``, or a failed link.
    """
    src_path = resolve_source(src)
    dst_path = Path(dst).expanduser().resolve()
    _check_not_nested(src_path, dst_path)
    plan = plan_split(src_path, counts, fractions, order, seed, link, plural)
    if dry_run:
        return SplitResult(plan, dst_path, "dry-run")
    state = _destination_state(dst_path, plan)
    if state == "different" and not overwrite:
        raise SplitError(
            f"{dst_path} already holds something else (another split or other files); "
            "choose an empty DST or pass --overwrite to replace its train/validation/test folders"
        )
    if state == "different":
        _clear_splits(dst_path)
    written = _materialise(plan, dst_path, into_staging=state != "same")
    if state == "same" and not written:
        return SplitResult(plan, dst_path, "unchanged")
    write_json_atomic(dst_path / MANIFEST, plan.to_json())
    return SplitResult(plan, dst_path, "written", written)


def _check_not_nested(src: Path, dst: Path) -> None:
    if dst == src or src in dst.parents:
        raise SplitError(
            f"DST {dst} is inside SRC {src}; choose a DST outside the source (SRC is never written to)"
        )
    if dst in src.parents:
        raise SplitError(f"SRC {src} is inside DST {dst}; choose a DST that does not contain the source")


def _destination_state(dst: Path, plan: SplitPlan) -> str:
    if dst.exists() and not dst.is_dir():
        raise SplitError(f"{dst} is a file; DST must be a folder")
    if not dst.exists() or not any(dst.iterdir()):
        return "empty"
    try:
        stored = json.loads((dst / MANIFEST).read_text())
    except (OSError, ValueError):
        return "different"
    return "same" if stored == json.loads(json.dumps(plan.to_json())) else "different"


def _clear_splits(dst: Path) -> None:
    for name in (*SPLIT_NAMES, "val", "valid"):
        if (dst / name).is_dir() and not (dst / name).is_symlink():
            shutil.rmtree(dst / name)
    (dst / MANIFEST).unlink(missing_ok=True)


def _materialise(plan: SplitPlan, dst: Path, into_staging: bool) -> int:
    """Write every planned file that is missing; returns how many were written."""
    root = dst / f".convlens-split-{os.getpid()}" if into_staging else dst
    written = 0
    try:
        for split, by_class in plan.files.items():
            for cls, paths in by_class.items():
                folder = root / split / plan.folder_of(cls)
                folder.mkdir(parents=True, exist_ok=True)
                for path in paths:
                    target = folder / Path(path).name
                    if not (dst / split / plan.folder_of(cls) / target.name).exists():
                        _place(Path(path), target, plan.link)
                        written += 1
        if into_staging:
            for split in plan.files:
                os.replace(root / split, dst / split)
    finally:
        if into_staging and root.exists():
            shutil.rmtree(root)
    return written


def _place(src: Path, target: Path, link: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        if link == "copy":
            shutil.copy2(src, tmp)
        elif link == "hardlink":
            os.link(src, tmp)
        else:
            os.symlink(src, tmp)
        os.replace(tmp, target)
    except PermissionError:
        raise SplitError(
            f"cannot read {src} or write {target}: permission denied; fix the permissions"
        ) from None
    except OSError as exc:
        hint = (
            "; hard links need SRC and DST on one file system, use --link copy or symlink"
            if link == "hardlink"
            else ""
        )
        raise SplitError(f"cannot {link} {src} to {target}: {exc.strerror or exc}{hint}") from None
