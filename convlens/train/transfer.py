"""Transfer learning: freeze a pretrained base, unfreeze from a named layer, and the book's dense head.

Book terms (seed 000/004): *feature extraction* trains a dense 256 -> Dropout 0.5 -> head on the base's
features; a *frozen* base trains end to end with augmentation; *fine-tuning* unfreezes the layers from
``block5_conv1`` on with a lower learning rate.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import nn

from convlens.errors import ConfigError
from convlens.models.layers import get_layer, layer_names

log = logging.getLogger(__name__)

# Above this many feature values the head pools globally instead of flattening (VGG16 at 150 px: 4x4x512 = 8192).
FLATTEN_LIMIT = 8192
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def trainable_tensors(model: nn.Module) -> int:
    """Number of weight tensors that training updates (Keras' ``len(model.trainable_weights)``)."""
    return sum(1 for p in model.parameters() if p.requires_grad)


def set_trainable(module: nn.Module, trainable: bool) -> None:
    """Freeze (``False``) or unfreeze (``True``) every parameter of ``module``."""
    for param in module.parameters():
        param.requires_grad_(trainable)


def unfreeze_from(model: nn.Module, layer_name: str) -> list[str]:
    """Freeze everything, then unfreeze ``layer_name``, every later layer and the head.

    Returns:
        The names of the layers that train again.
    """
    names = layer_names(model)
    if layer_name not in names:
        raise ConfigError(
            f"--unfreeze-from {layer_name!r} is not a layer of this model; choose one of: {', '.join(names)}"
        )
    set_trainable(model, False)
    unfrozen = names[names.index(layer_name) :]
    for name in unfrozen:
        set_trainable(get_layer(model, name), True)
    set_trainable(head_of(model), True)
    _freeze_unused_classifier(model)
    return unfrozen


def head_of(model: nn.Module) -> nn.Module:
    """What is trained on top of the base: a :class:`FeatureClassifier`'s dense head, else the classifier."""
    if isinstance(model, FeatureClassifier):
        return model.head
    if hasattr(model, "get_classifier"):
        return model.get_classifier()
    raise ConfigError(f"{type(model).__name__} has no get_classifier(); it cannot be used as a transfer base")


def _freeze_unused_classifier(model: nn.Module) -> None:
    """The base's own (ImageNet) classifier is not used under a dense head: never train or count it.

    Bases that can be built without it (``include_top=False``: VGG, Lite0) are; this covers the others.
    """
    if isinstance(model, FeatureClassifier) and hasattr(model.base, "get_classifier"):
        set_trainable(model.base.get_classifier(), False)


def freeze_base(model: nn.Module) -> tuple[int, int]:
    """Freeze all but the head; return the trainable tensor counts before and after (VGG16: 30 -> 4)."""
    _freeze_unused_classifier(model)
    before = trainable_tensors(model)
    set_trainable(model, False)
    set_trainable(head_of(model), True)
    return before, trainable_tensors(model)


def base_in_inference_mode(model: nn.Module) -> None:
    """Run the pretrained base in inference mode while it trains (``--mode frozen`` and ``--mode finetune``).

    Every batch-norm layer, in the unfrozen blocks too, normalises with its running (ImageNet) statistics and
    leaves them unchanged, while the affine weights of the unfrozen ones still train; dropout, stochastic depth
    and drop-connect inside the base are off. Only the dense head (its Dropout 0.5) runs in training mode. This
    is Keras' fine-tuning advice (keep BatchNormalization layers in inference mode when unfreezing): a
    fine-tuning batch of 20 images gives noisy batch statistics, and switching a block from running to batch
    statistics changes the features the head was trained on. Issue #12: on CIFAR-10 (100 images per class),
    without it the head phase's validation accuracy slid during fine-tuning and the fine-tuning epochs' train
    loss jumped from 0.34 to 0.99 (benchmarks/RESULTS.md). With a frozen base it changes nothing: a wholly frozen
    base already ran in inference mode.

    Call after ``model.train()`` (the trainer does so at the start of each epoch). ``model`` is a
    :class:`FeatureClassifier`, the fine-tuning tail on cached activations (``chain`` + ``head``) or a model
    with ``get_classifier()``.
    """
    head = _trained_head(model)
    kept = {id(m) for m in head.modules()} if head is not None else set()
    for module in model.modules():
        if module is model or (id(module) in kept and not isinstance(module, _NORMS)):
            continue
        module.training = False  # not .eval(): that would also switch the head's modules below ``module``


def _trained_head(model: nn.Module) -> nn.Module | None:
    """The part of ``model`` that runs in training mode: a :class:`DenseHead` or the classifier, if any."""
    if isinstance(getattr(model, "head", None), DenseHead):  # FeatureClassifier, TailClassifier
        return model.head
    try:
        return head_of(model)
    except ConfigError:
        return None


class DenseHead(nn.Module):
    """The book's head on conv features: flatten (or global-average-pool) -> dense 256 ReLU -> Dropout -> logits.

    Args:
        feature_shape: ``(C, H, W)`` of the base's features.
        num_outputs: 1 for a binary model, else the number of classes.
        hidden: width of the dense layer (256 in the book).
        dropout: dropout before the output layer (0.5 in the book).
    """

    def __init__(
        self, feature_shape: tuple[int, ...], num_outputs: int, hidden: int = 256, dropout: float = 0.5
    ):
        super().__init__()
        channels = feature_shape[0]
        self.flatten = math.prod(feature_shape) <= FLATTEN_LIMIT
        width = math.prod(feature_shape) if self.flatten else channels
        self.dense = nn.Linear(width, hidden)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_outputs)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() == 2:  # already pooled (cached features)
            x = features
        else:
            x = features.flatten(1) if self.flatten else features.float().mean(dim=(2, 3))
        return self.classifier(self.dropout(torch.relu(self.dense(x.float()))))

    def get_classifier(self) -> nn.Module:
        return self.classifier


class FeatureClassifier(nn.Module):
    """A pretrained base followed by a :class:`DenseHead`: what a ``features`` run predicts with."""

    def __init__(self, base: nn.Module, head: DenseHead) -> None:
        super().__init__()
        self.base = base
        self.head = head
        self.pretrained_cfg: dict[str, Any] = dict(getattr(base, "pretrained_cfg", {}))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.base.forward_features(x)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.head.classifier

    def layer_names(self) -> list[str]:
        return layer_names(self.base)


@torch.no_grad()
def feature_shape(base: nn.Module, input_size: tuple[int, int, int]) -> tuple[int, ...]:
    """``(C, H, W)`` of ``base.forward_features`` for one input of ``input_size``."""
    was_training = base.training
    base.eval()
    try:
        return tuple(base.forward_features(torch.zeros(1, *input_size)).shape[1:])
    finally:
        base.train(was_training)


def with_dense_head(
    base: nn.Module, num_outputs: int, input_size: tuple[int, int, int], dropout: float = 0.5
) -> FeatureClassifier:
    """The book's transfer model: ``base`` + flatten/pool -> dense 256 -> Dropout -> ``num_outputs`` logits."""
    return FeatureClassifier(base, DenseHead(feature_shape(base, input_size), num_outputs, dropout=dropout))
