"""In-memory datasets: uint8 image arrays with labels, and the train/validation/test bundle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from convlens.data.images import SkippedFile
from convlens.labels import label_mode_for  # noqa: F401  (re-exported: data.dataset.label_mode_for)


class ArrayDataset:
    """Images ``(N, H, W, C)`` uint8 (possibly a memory map) with int64 labels.

    Args:
        images: uint8 array ``(N, H, W, C)`` with ``C`` 1 or 3.
        labels: integer labels ``(N,)`` indexing ``classes``.
        classes: class names in label order.
        paths: the source file of each image, or ``None`` for built-ins and MNIST.
        skipped: files left out while building the dataset, with the reason.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | Sequence[int],
        classes: Sequence[str],
        paths: Sequence[str] | None = None,
        skipped: Sequence[SkippedFile] = (),
    ) -> None:
        if images.ndim != 4 or images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, H, W, C); got {images.dtype} {images.shape}")
        self.images = images
        self.labels = np.asarray(labels, dtype=np.int64)
        if len(self.labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(self.labels)} labels")
        self.classes = list(classes)
        self.paths = list(paths) if paths is not None else None
        self.skipped = list(skipped)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = torch.from_numpy(np.array(self.images[index])).permute(2, 0, 1)
        return image, int(self.labels[index])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of every image."""
        _, h, w, c = self.images.shape
        return (c, h, w)

    def class_counts(self) -> dict[str, int]:
        """Number of images per class, in label order."""
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {name: int(n) for name, n in zip(self.classes, counts)}

    def subset(self, indices: np.ndarray | Sequence[int]) -> ArrayDataset:
        """A dataset with the rows ``indices`` (copies them into memory)."""
        idx = np.asarray(indices, dtype=np.int64)
        paths = [self.paths[i] for i in idx] if self.paths is not None else None
        return ArrayDataset(np.asarray(self.images[idx]), self.labels[idx], self.classes, paths)

    def __repr__(self) -> str:
        return f"ArrayDataset(n={len(self)}, shape={self.image_shape}, classes={self.classes})"


@dataclass
class DataSplits:
    """The splits of one dataset; ``validation`` and ``test`` may be ``None``.

    ``label_mode`` is ``"binary"`` for two classes (one sigmoid logit, labels 0/1), else
    ``"categorical"``.
    """

    train: ArrayDataset
    validation: ArrayDataset | None
    test: ArrayDataset | None
    classes: list[str]
    label_mode: str
    name: str = ""
    skipped: list[SkippedFile] = field(default_factory=list)

    def items(self) -> list[tuple[str, ArrayDataset]]:
        """``(split name, dataset)`` for the splits that exist."""
        pairs = [("train", self.train), ("validation", self.validation), ("test", self.test)]
        return [(name, ds) for name, ds in pairs if ds is not None]

    @property
    def num_outputs(self) -> int:
        """Logits a model needs: 1 for binary, else the number of classes."""
        return 1 if self.label_mode == "binary" else len(self.classes)
