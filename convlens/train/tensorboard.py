"""``convlens train --tensorboard``: the run as TensorBoard shows it, written to ``RUN/tb/``.

Laid out like Keras' TensorBoard callback, so that the training and validation curves share one chart:

- ``tb/train``: ``epoch_loss``, ``epoch_acc`` and ``epoch_learning_rate`` per epoch; once, before the first epoch,
  the augmentation preview (a few training images on the top row, the same images augmented below);
- ``tb/validation``: ``epoch_loss``, ``epoch_acc`` and, per epoch, a Grad-CAM overlay of one fixed validation
  image (its predicted class), so one can watch where the model learns to look.

View with ``tensorboard --logdir RUN/tb`` (its smoothing slider plays the role of ``curves_smoothed.png``).
A ``features`` run trains its dense head on cached features, so it has the scalars only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from convlens._extras import require_extra
from convlens.errors import ConvlensError
from convlens.runs import RunDir
from convlens.train.events import Callback

if TYPE_CHECKING:
    from convlens.train.trainer import Trainer

log = logging.getLogger(__name__)

PREVIEW_IMAGES = 8


class TensorBoard(Callback):
    """Writes scalars, the augmentation preview and Grad-CAM overlays for TensorBoard (rank 0 only).

    Args:
        run_dir: the run folder; events go to ``run_dir/tb/{train,validation}``.
        augment: the training augmentation preset (``book``), previewed once; ``None`` shows plain images.
        seed: seed of the preview's augmentation (its own generator: training's random streams are untouched).
    """

    order = 85  # after history and early stopping, before the checkpoint
    rank_zero_only = True

    def __init__(self, run_dir: Path, augment: str | None = None, seed: int = 0) -> None:
        require_extra("tensorboard", "--tensorboard")
        from convlens.data import Augmentation

        self.log_dir = RunDir(run_dir).tensorboard_dir
        self.augmentation = Augmentation.preset(augment) if augment else None
        self.seed = seed
        self.gradcam = True
        self._writers: dict[str, Any] = {}

    def writer(self, split: str) -> Any:
        """The ``SummaryWriter`` of ``train`` or ``validation`` (opened on first use)."""
        if split not in self._writers:
            from torch.utils.tensorboard import SummaryWriter

            self._writers[split] = SummaryWriter(log_dir=str(self.log_dir / split))
        return self._writers[split]

    def before_fit(self, trainer: Trainer) -> None:
        if trainer.start_epoch == 0:  # a resumed run logged its preview the first time
            self.log_preview(trainer)

    def after_epoch(self, trainer: Trainer) -> None:
        step = trainer.epoch + 1
        for key, value in trainer.logs.items():
            if key != "epoch":
                split, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
                self.writer(split).add_scalar(f"epoch_{name}", value, step)
        self.writer("train").add_scalar("epoch_learning_rate", trainer.optimizer.param_groups[0]["lr"], step)
        if self.gradcam:
            self.log_gradcam(trainer, step)
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def log_preview(self, trainer: Trainer) -> None:
        """A grid: the first training images, and below them the same images augmented."""
        from torchvision.utils import make_grid

        from convlens.data import augment_batch

        dataset = getattr(trainer.train_loader, "dataset", None)
        if dataset is None:  # a features run: the loader holds features, not images
            return
        x = as_float(np.asarray(dataset.images[:PREVIEW_IMAGES]))
        rows = [x]
        if self.augmentation is not None:
            generator = torch.Generator().manual_seed(self.seed)
            rows.append(augment_batch(x, self.augmentation, generator).clamp(0, 1))
        grid = make_grid(torch.cat(rows), nrow=len(x), padding=2, pad_value=1.0)
        tag = "augmentation" if self.augmentation is not None else "training_images"
        self.writer("train").add_image(tag, grid, 0)

    def log_gradcam(self, trainer: Trainer, step: int) -> None:
        """Grad-CAM of the first validation image, laid over it; the model's modes are left as they were."""
        from convlens.explain.cam import create_explainer
        from convlens.explain.overlay import overlay
        from convlens.train._build import normalisation

        dataset = getattr(trainer.val_loader, "dataset", None)
        if dataset is None:  # no validation split, or a features run
            return
        model = trainer.eval_module
        photo = np.asarray(dataset.images[0])
        x = normalise(as_float(photo[None]), normalisation(model)).to(trainer.precision.device)
        modes = [(module, module.training) for module in model.modules()]
        try:
            result = create_explainer("gradcam", model)(x)
        except ConvlensError as exc:  # e.g. a model without a conv layer: say so once, keep training
            log.warning("tensorboard: no Grad-CAM overlays (%s)", exc)
            self.gradcam = False
            return
        finally:
            for module, mode in modes:  # per module: frozen batch norms stay in eval mode
                module.training = mode
        blended = overlay(photo if photo.shape[2] == 3 else photo[..., 0], result.maps[0].cpu())
        self.writer("validation").add_image("gradcam", blended, step, dataformats="HWC")


def as_float(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` -> float32 ``(N, C, H, W)`` in 0-1."""
    return torch.from_numpy(np.array(images, dtype=np.uint8)).permute(0, 3, 1, 2).float().div(255)  # a copy


def normalise(x: torch.Tensor, norm: dict[str, Any]) -> torch.Tensor:
    """``(x - mean) / std`` per channel when the model has them, as the training loader does."""
    if norm.get("mean") is not None:
        x = x - torch.tensor(norm["mean"], dtype=x.dtype).view(1, -1, 1, 1)
    if norm.get("std") is not None:
        x = x / torch.tensor(norm["std"], dtype=x.dtype).view(1, -1, 1, 1)
    return x
