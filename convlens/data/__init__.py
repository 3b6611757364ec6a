"""convlens.data: split, inspect, load (image folders, MNIST IDX, built-ins), cache and augment images."""

from convlens.data.augment import Augmentation, augment_batch
from convlens.data.builtin import builtins, pets_mini_path
from convlens.data.cache import load_images
from convlens.data.dataset import ArrayDataset, DataSplits
from convlens.data.images import BadImage, SkippedFile, decode
from convlens.data.info import dataset_info
from convlens.data.loader import BatchLoader
from convlens.data.mnist import load_mnist, read_idx
from convlens.data.preview import augment_preview
from convlens.data.resolve import resolve_dataset
from convlens.data.split import split_pool

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
