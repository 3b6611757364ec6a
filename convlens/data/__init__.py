"""convlens.data: split, inspect, load (image folders, MNIST IDX, built-ins), cache and augment images."""

import importlib
from typing import Any

# Imported on first use, so that a light submodule (e.g. the built-in names a command line checks before any work)
# does not pull torch in through this package.
_LAZY = {
    "ArrayDataset": "convlens.data.dataset",
    "Augmentation": "convlens.data.augment",
    "BadImage": "convlens.data.images",
    "BatchLoader": "convlens.data.loader",
    "DataSplits": "convlens.data.dataset",
    "SkippedFile": "convlens.data.images",
    "augment_batch": "convlens.data.augment",
    "augment_preview": "convlens.data.preview",
    "builtins": "convlens.data.builtin",
    "dataset_info": "convlens.data.info",
    "decode": "convlens.data.images",
    "load_images": "convlens.data.cache",
    "load_mnist": "convlens.data.mnist",
    "pets_mini_path": "convlens.data.builtin",
    "read_idx": "convlens.data.mnist",
    "resolve_dataset": "convlens.data.resolve",
    "split_pool": "convlens.data.split",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'convlens.data' has no attribute {name!r}")


__all__ = [
    "ArrayDataset",
    "Augmentation",
    "BadImage",
    "BatchLoader",
    "DataSplits",
    "SkippedFile",
    "augment_batch",
    "augment_preview",
    "builtins",
    "dataset_info",
    "decode",
    "load_images",
    "load_mnist",
    "pets_mini_path",
    "read_idx",
    "resolve_dataset",
    "split_pool",
]
