"""``resolve_dataset``: the one entry point that turns a name or folder into :class:`DataSplits`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from convlens.data.builtin import builtin_pool, builtins, check_source
from convlens.data.cache import load_images
from convlens.data.dataset import ArrayDataset, DataSplits, label_mode_for
from convlens.data.folders import (
    check_split_classes,
    find_split_dirs,
    is_flat_pool,
    scan_class_folders,
    scan_pool,
)
from convlens.data.images import INTERPOLATIONS, check_target_size
from convlens.data.mnist import is_mnist_folder, load_mnist
from convlens.data.resize import resize_arrays
from convlens.data.room import check_room
from convlens.errors import ConfigError, DataError, NotAnImageFolder

log = logging.getLogger(__name__)

# pets-mini has 100 images per class: 60 train, 20 validation, 20 test, in natural order.
POOL_FRACTIONS = (0.6, 0.2, 0.2)


def resolve_dataset(
    spec: str | os.PathLike[str],
    image_size: tuple[int, int] | int | None = (150, 150),
    channels: int = 3,
    val_fraction: float | None = None,
    label_mode: str | None = None,
    cache_dir: str | os.PathLike[str] | None | bool = None,
    progress: bool = True,
    seed: int = 0,
    interpolation: str = "bilinear",
) -> DataSplits:
    """Load a dataset by name or folder.

    Args:
        spec: ``pets-mini`` or ``digits`` (built-ins); a folder with ``train/validation/test``
            sub-folders; a flat class-folder root (``<root>/<class>/<image>``, split with
            ``val_fraction``); a flat pool of ``<class>.<n>.jpg`` files (split 60/20/20 in
            natural order); or a folder with the MNIST IDX files.
        image_size: ``(H, W)`` (or one int) every image is resized to; ``None`` keeps the native size.
        channels: 3 (RGB) or 1 (L).
        val_fraction: share of train moved to validation (stratified, seeded) when there is none.
        label_mode: ``binary`` or ``categorical``; default binary for two classes.
        cache_dir: decode-once cache root; ``None`` is ``$CONVLENS_CACHE``, ``False`` disables it.
        progress: show a progress bar while decoding.
        seed: seed of the ``val_fraction`` split.
        interpolation: resize filter (``nearest``, ``bilinear``, ``bicubic``, ``lanczos``).

    Raises:
        NotAnImageFolder: ``spec`` is neither a built-in nor a usable folder.
    """
    size = _checked_size(image_size, channels, interpolation, spec)
    name = str(spec)
    options = {
        "size": size,
        "channels": channels,
        "cache_dir": cache_dir,
        "progress": progress,
        "interp": interpolation,
    }
    if name in builtins and builtin_pool(name) is None:
        splits = _arrays_builtin(name, size, channels, val_fraction, seed)
    else:
        splits = _from_folder(spec, options, val_fraction, seed)
    splits.label_mode = label_mode_for(splits.classes, label_mode)
    splits.name = name
    splits.skipped = [item for _, ds in splits.items() for item in ds.skipped]
    return splits


def _checked_size(
    image_size: tuple[int, int] | int | None, channels: int, interpolation: str, spec: str | os.PathLike[str]
) -> tuple[int, int] | None:
    """``image_size`` as ``(H, W)`` (or ``None``), after checking the options that do not need the data."""
    if channels not in (1, 3):
        raise ConfigError(f"channels must be 1 or 3, not {channels}")
    if interpolation not in INTERPOLATIONS:
        raise ConfigError(f"interpolation must be one of {sorted(INTERPOLATIONS)}, not {interpolation!r}")
    if str(spec) == "mnist" and not Path("mnist").exists():
        raise NotAnImageFolder(
            "MNIST is read from its IDX files: give their folder, e.g. ../shared/data/mnist"
        )
    size = (
        (image_size, image_size)
        if isinstance(image_size, int)
        else (tuple(image_size) if image_size else None)
    )
    check_target_size(size)
    return size  # type: ignore[return-value]


def _from_folder(
    spec: str | os.PathLike[str], options: dict, val_fraction: float | None, seed: int
) -> DataSplits:
    """The splits of a folder, by its layout: MNIST IDX files, split folders, a flat pool or class folders."""
    folder = builtin_pool(str(spec)) or Path(spec).expanduser()
    if not folder.exists():
        check_source(spec)
    if not folder.is_dir():
        raise NotAnImageFolder(
            f"{spec} is a file; a dataset is a folder: <root>/[train/]<class>/<image>, a flat pool or a built-in"
        )
    if is_mnist_folder(folder):
        return _mnist(folder, options["size"], options["channels"], val_fraction, seed)
    if find_split_dirs(folder):
        return _split_folders(folder, options, val_fraction, seed)
    if is_flat_pool(folder):
        return _pool(folder, options)
    return _class_root(folder, options, val_fraction, seed)


def _load_class_files(by_class: dict[str, list[Path]], classes: list[str], options: dict) -> ArrayDataset:
    paths = [str(p) for c in classes for p in by_class.get(c, [])]
    labels = np.array([i for i, c in enumerate(classes) for _ in by_class.get(c, [])], dtype=np.int64)
    images, kept, skipped = load_images(
        paths,
        options["size"],
        options["channels"],
        options["interp"],
        options["cache_dir"],
        progress=options["progress"],
    )
    if paths and not kept:
        raise DataError(
            f"none of the {len(paths)} image files could be read (e.g. {paths[0]}: {skipped[0].reason}); "
            "run `convlens data info` on the folder to list them"
        )
    return ArrayDataset(images, labels[kept], classes, [paths[i] for i in kept], skipped)


def _check_train_classes(train: ArrayDataset, by_class: dict[str, list[Path]]) -> None:
    """A class every one of whose training files was skipped would be a label the model never sees."""
    counts = train.class_counts()
    for cls, paths in by_class.items():
        if paths and not counts.get(cls):
            raise DataError(
                f"class {cls!r} has {len(paths)} file(s) but none could be read as an image "
                f"(e.g. {paths[0].name}); fix or remove them, or remove the class folder"
            )


def _split_folders(root: Path, options: dict, val_fraction: float | None, seed: int) -> DataSplits:
    dirs = find_split_dirs(root)
    if "train" not in dirs:
        what = "a file named train, not a train/ folder" if (root / "train").exists() else "no train/ folder"
        raise NotAnImageFolder(f"{root} has {sorted(dirs)} but {what}; expected {root}/train/<class>/<image>")
    scanned = {split: scan_class_folders(path) for split, path in dirs.items()}
    classes = list(scanned["train"][0])
    others = {split: list(by_class) for split, (by_class, _) in scanned.items() if split != "train"}
    check_split_classes(classes, others)
    for split, names in others.items():
        for missing in sorted(set(classes) - set(names)):
            log.warning("%s has no folder for class %r that train has", split, missing)
    data = {split: _load_class_files(by_class, classes, options) for split, (by_class, _) in scanned.items()}
    _check_train_classes(data["train"], scanned["train"][0])
    for split, (_, bad) in scanned.items():
        data[split].skipped = bad + data[split].skipped
    splits = DataSplits(data["train"], data.get("validation"), data.get("test"), classes, "")
    return _with_val_fraction(splits, val_fraction, seed)


def _class_root(root: Path, options: dict, val_fraction: float | None, seed: int) -> DataSplits:
    by_class, bad = scan_class_folders(root)
    train = _load_class_files(by_class, list(by_class), options)
    _check_train_classes(train, by_class)
    train.skipped = bad + train.skipped
    return _with_val_fraction(DataSplits(train, None, None, list(by_class), ""), val_fraction, seed)


def _pool(root: Path, options: dict) -> DataSplits:
    by_class, bad = scan_pool(root)
    classes = list(by_class)
    full = _load_class_files(by_class, classes, options)
    _check_train_classes(full, by_class)
    parts: list[list[int]] = [[], [], []]
    for label in range(len(classes)):
        rows = np.flatnonzero(full.labels == label)
        cuts = np.cumsum([round(f * len(rows)) for f in POOL_FRACTIONS[:2]])
        for part, chunk in zip(parts, np.split(rows, cuts)):
            part.extend(chunk.tolist())
    train, val, test = (full.subset(p) for p in parts)
    train.skipped = bad + full.skipped
    return DataSplits(train, val, test, classes, "")


def _with_val_fraction(splits: DataSplits, val_fraction: float | None, seed: int) -> DataSplits:
    if val_fraction is None:
        return splits
    if splits.validation is not None:
        raise ConfigError("this dataset already has a validation split; leave out --val-fraction")
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be between 0 and 1, not {val_fraction}")
    train_rows, val_rows = stratified_holdout(splits.train.labels, val_fraction, seed)
    full = splits.train
    splits.train, splits.validation = full.subset(train_rows), full.subset(val_rows)
    splits.train.skipped = full.skipped
    return splits


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(kept, held_out)`` holding out ``fraction`` of each class, seeded.

    The total held out is ``round(fraction * N)``; per-class shares use the largest remainders.
    """
    rng = np.random.default_rng(seed)
    classes, sizes = np.unique(labels, return_counts=True)
    exact = fraction * sizes
    held_counts = np.floor(exact).astype(int)
    extra = round(fraction * len(labels)) - held_counts.sum()
    held_counts[np.argsort(-(exact - held_counts), kind="stable")[:extra]] += 1
    kept, held = [], []
    for label, n_held in zip(classes, held_counts):
        rows = rng.permutation(np.flatnonzero(labels == label))
        held.append(rows[:n_held])
        kept.append(rows[n_held:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held))


def _arrays(images: np.ndarray, labels: np.ndarray, classes: list[str], size, channels) -> ArrayDataset:
    if size is not None:
        check_room((len(images), *size, channels), None)
    return ArrayDataset(resize_arrays(images, size, channels), labels, classes)


def _arrays_builtin(name: str, size, channels, val_fraction, seed) -> DataSplits:
    images, labels, classes = builtins.get(name)()
    full = _arrays(images, labels, classes, size, channels)
    # A fixed, seeded 60/20/20 stratified split, so every run of the demo sees the same data.
    rest, test = stratified_holdout(full.labels, 0.2, seed=0)
    rest_ds = full.subset(rest)
    train_rows, val_rows = stratified_holdout(rest_ds.labels, val_fraction or 0.25, seed)
    return DataSplits(rest_ds.subset(train_rows), rest_ds.subset(val_rows), full.subset(test), classes, "")


def _mnist(folder: Path, size, channels, val_fraction, seed) -> DataSplits:
    data = load_mnist(folder)
    classes = [str(i) for i in range(10)]
    train = _arrays(*data["train"], classes, size, channels)
    test = _arrays(*data["test"], classes, size, channels)
    return _with_val_fraction(DataSplits(train, None, test, classes, ""), val_fraction, seed)
