"""The images an evaluation reads: a split of the run's own data, or any folder of class sub-folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from convlens.errors import DataError
from convlens.train import _build
from convlens.train.config import TrainConfig


def evaluation_dataset(
    config: TrainConfig, split: str, classes: list[str], other_data: bool, class_map: dict[str, str] | None
) -> Any:
    """The dataset of ``split``, labelled with the run's class indices (classes matched by name)."""
    from convlens.data.folders import find_split_dirs

    folder = Path(config.data).expanduser()
    if other_data and folder.is_dir() and not find_split_dirs(folder) and not _is_special(folder):
        dataset = _resolve(config, folder).train  # a plain folder of class sub-folders: all of it
    else:
        splits = _resolve(config, config.data, None if other_data else config.val_fraction)
        dataset = dict(splits.items()).get(split)
        if dataset is None and other_data and not find_split_dirs(folder):
            dataset = splits.train
        if dataset is None:
            raise DataError(
                f"{config.data} has no {split} split; choose one of {[n for n, _ in splits.items()]} with --split"
            )
    if len(dataset) == 0:
        raise DataError(f"{config.data} holds no usable image for the {split} split; nothing to evaluate")
    return relabel(dataset, classes, class_map or {}, config.data)


def _is_special(folder: Path) -> bool:
    from convlens.data.folders import is_flat_pool
    from convlens.data.mnist import is_mnist_folder

    return is_mnist_folder(folder) or is_flat_pool(folder)


def _resolve(config: TrainConfig, spec: Any, val_fraction: float | None = None) -> Any:
    from convlens.data import resolve_dataset

    splits = resolve_dataset(
        spec,
        image_size=(config.image_size, config.image_size),
        channels=config.channels,
        val_fraction=val_fraction,
        progress=config.progress,
    )
    _build.report_skipped(splits.skipped)
    return splits


def relabel(dataset: Any, classes: list[str], class_map: dict[str, str], data: str) -> Any:
    """``dataset`` with labels indexing ``classes`` (the run's); folder names go through ``class_map`` first."""
    names = [class_map.get(name, name) for name in dataset.classes]
    unknown = [name for name in names if name not in classes]
    if unknown:
        raise DataError(
            f"{data} has class folder(s) {unknown} that the run does not know; the run's classes are {classes}. "
            f"Rename the folders or map them: --class-map {unknown[0]}={classes[0]}"
        )
    if names == list(classes):
        return dataset
    from convlens.data import ArrayDataset

    index = np.array([classes.index(name) for name in names], dtype=np.int64)
    return ArrayDataset(dataset.images, index[dataset.labels], classes, dataset.paths, dataset.skipped)
