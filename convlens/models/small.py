"""The seeds' small networks, layer for layer, with Keras' layer names.

- ``small_convnet`` (seed 000): conv 32/64/128/128 (3x3 valid, ReLU) each followed by 2x2 max-pooling, flatten,
  dense 512 ReLU, dense head (one logit for a binary problem): 3,453,121 parameters at 150x150x3.
- ``mnist_cnn`` (seed 003): conv 32 same, pool, conv 64 same, pool, flatten, dense 10: 50,186 parameters.
- ``mnist_tf`` (seed 002): two bias-free 3x3 convolutions (SAME, ReLU, 2x2 pool), dense 256, 256, 10.
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.models._base import Conv2dAct, ConvClassifier, LinearAct, make_cfg
from convlens.models._factory import register_model


def _flat_size(features: nn.Module, input_size: tuple[int, int, int]) -> int:
    with torch.no_grad():
        return int(features(torch.zeros(1, *input_size)).numel())


class SequentialNet(ConvClassifier):
    """A Keras-``Sequential``-like net: named feature layers, a flatten, named dense layers, a classifier."""

    summary_flatten = True

    def __init__(
        self,
        features: list[tuple[str, nn.Module]],
        dense: list[tuple[str, nn.Module]],
        classifier: tuple[str, nn.Module],
        input_size: tuple[int, int, int],
    ) -> None:
        super().__init__()
        self._feature_names = [n for n, _ in features]
        self._dense_names = [n for n, _ in dense]
        for name, layer in [*features, *dense, classifier]:
            self.add_module(name, layer)
        self.classifier_attr = classifier[0]
        self._layer_names = [*self._feature_names, *self._dense_names, classifier[0]]
        self.pretrained_cfg = make_cfg(input_size, classifier[1].out_features)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        for name in self._feature_names:
            x = getattr(self, name)(x)
        return x

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(features, 1)
        for name in self._dense_names:
            x = getattr(self, name)(x)
        return self.get_classifier()(x)


def _conv(c_in: int, c_out: int, padding: str = "valid", bias: bool = True) -> Conv2dAct:
    return Conv2dAct(c_in, c_out, 3, padding=padding, bias=bias, activation=nn.ReLU(inplace=True))


@register_model(
    "small_convnet",
    "small",
    (3, 150, 150),
    num_classes=1,
    description="seed 000: 4 conv + 2 dense, 3,453,121 params at 150 px (dropout=0.5 option)",
)
def small_convnet(num_classes: int, input_size: tuple[int, int, int], dropout: float = 0.0) -> SequentialNet:
    """The book's cats-vs-dogs convnet; ``dropout`` adds Dropout before the 512 dense layer."""
    widths = [input_size[0], 32, 64, 128, 128]
    features: list[tuple[str, nn.Module]] = []
    for i in range(4):
        features += [
            (f"conv2d_{i + 1}", _conv(widths[i], widths[i + 1])),
            (f"max_pooling2d_{i + 1}", nn.MaxPool2d(2)),
        ]
    flat = _flat_size(nn.Sequential(*(m for _, m in features)), input_size)
    dense: list[tuple[str, nn.Module]] = [("dropout_1", nn.Dropout(dropout))] if dropout > 0 else []
    dense.append(("dense_1", LinearAct(flat, 512, activation=nn.ReLU(inplace=True))))
    return SequentialNet(features, dense, ("dense_2", nn.Linear(512, num_classes)), input_size)


@register_model(
    "mnist_cnn",
    "small",
    (1, 28, 28),
    num_classes=10,
    description="seed 003: conv 32 same, pool, conv 64 same, pool, dense 10 (50,186 params)",
)
def mnist_cnn(num_classes: int, input_size: tuple[int, int, int]) -> SequentialNet:
    """The seed's Keras MNIST CNN, ready for Grad-CAM on ``conv2d_1``."""
    features: list[tuple[str, nn.Module]] = [
        ("conv2d", _conv(input_size[0], 32, "same")),
        ("max_pooling2d", nn.MaxPool2d(2)),
        ("conv2d_1", _conv(32, 64, "same")),
        ("max_pooling2d_1", nn.MaxPool2d(2)),
    ]
    flat = _flat_size(nn.Sequential(*(m for _, m in features)), input_size)
    return SequentialNet(features, [], ("dense", nn.Linear(flat, num_classes)), input_size)


@register_model(
    "mnist_tf",
    "small",
    (1, 28, 28),
    num_classes=10,
    description="seed 002: 2 bias-free convs (SAME) + dense 256, 256, 10",
)
def mnist_tf(num_classes: int, input_size: tuple[int, int, int], dropout: float = 0.0) -> SequentialNet:
    """The seed's low-level TensorFlow MNIST net; ``dropout`` follows both hidden dense layers."""
    features: list[tuple[str, nn.Module]] = [
        ("conv2d_1", _conv(input_size[0], 32, "same", bias=False)),
        ("max_pooling2d_1", nn.MaxPool2d(2, ceil_mode=True)),
        ("conv2d_2", _conv(32, 64, "same", bias=False)),
        ("max_pooling2d_2", nn.MaxPool2d(2, ceil_mode=True)),
    ]
    flat = _flat_size(nn.Sequential(*(m for _, m in features)), input_size)
    relu = nn.ReLU(inplace=True)
    dense: list[tuple[str, nn.Module]] = [("dense_1", LinearAct(flat, 256, activation=relu))]
    dense += [("dropout_1", nn.Dropout(dropout))] if dropout > 0 else []
    dense += [("dense_2", LinearAct(256, 256, activation=nn.ReLU(inplace=True)))]
    dense += [("dropout_2", nn.Dropout(dropout))] if dropout > 0 else []
    return SequentialNet(features, dense, ("dense_3", nn.Linear(256, num_classes)), input_size)
