"""VGG16 and VGG19 (Simonyan & Zisserman 2014) with Keras' layer names, and the seed's VGG19 + GAP net for CAM.

``include_top=False`` is the book's *conv base* (VGG16 at 150 px: 4x4x512 features, 14,714,688 parameters);
with the top, an adaptive 7x7 pool (as torchvision) lets the ImageNet classifier run at any input size.
ImageNet weights come through torchvision's files (hub cache), mapped onto ``block1_conv1`` ... ``predictions``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from convlens.models._base import Conv2dAct, ConvClassifier, LinearAct, make_cfg
from convlens.models._factory import register_model
from convlens.models.weights import StateDict, WeightsSpec

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
VGG16_BLOCKS, VGG19_BLOCKS = (2, 2, 3, 3, 3), (2, 2, 4, 4, 4)
_WIDTHS = (64, 128, 256, 512, 512)


def conv_names(blocks: tuple[int, ...]) -> list[str]:
    """``block1_conv1`` ... in forward order."""
    return [f"block{b + 1}_conv{i + 1}" for b, n in enumerate(blocks) for i in range(n)]


class VGG(ConvClassifier):
    """VGG conv blocks named like Keras; a Keras-style top (``fc1``, ``fc2``, ``predictions``) or a GAP head."""

    def __init__(
        self,
        num_classes: int,
        input_size: tuple[int, int, int],
        blocks: tuple[int, ...],
        include_top: bool = True,
        head: str = "dense",
        activation: str = "relu",
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        act = (
            (lambda: nn.LeakyReLU(0.2, inplace=True))
            if activation == "leaky_relu"
            else (lambda: nn.ReLU(inplace=True))
        )
        c_in, names = input_size[0], []
        for b, n in enumerate(blocks):
            for i in range(n):
                self.add_module(
                    f"block{b + 1}_conv{i + 1}", Conv2dAct(c_in, _WIDTHS[b], 3, padding=1, activation=act())
                )
                c_in = _WIDTHS[b]
                names.append(f"block{b + 1}_conv{i + 1}")
            self.add_module(f"block{b + 1}_pool", nn.MaxPool2d(2))
            names.append(f"block{b + 1}_pool")
        self._feature_names = list(names)
        self.head_kind = head if include_top else "none"
        self.summary_flatten = self.head_kind == "dense"
        self.classifier_attr = "predictions"
        if self.head_kind == "dense":
            self.fc1 = LinearAct(512 * 7 * 7, 4096, activation=act())
            self.fc2 = LinearAct(4096, 4096, activation=act())
            self.dropout = nn.Dropout(dropout)
            names += ["fc1", "fc2"]
        self.predictions = (
            nn.Linear(512, num_classes)
            if head == "gap"
            else (nn.Linear(4096, num_classes) if self.head_kind == "dense" else nn.Identity())
        )
        self._layer_names = names + (["predictions"] if include_top else [])
        self.pretrained_cfg = make_cfg(
            input_size, num_classes if include_top else 0, IMAGENET_MEAN, IMAGENET_STD, "bilinear", 0.875
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        for name in self._feature_names:
            x = getattr(self, name)(x)
        return x

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        if self.head_kind == "gap":
            return self.predictions(features.mean(dim=(2, 3)))
        if self.head_kind == "none":
            return torch.flatten(features, 1)
        x = torch.flatten(F.adaptive_avg_pool2d(features, 7), 1)
        return self.predictions(self.dropout(self.fc2(self.dropout(self.fc1(x)))))


def torchvision_vgg_map(blocks: tuple[int, ...]) -> Callable[[StateDict], StateDict]:
    """Key map from torchvision's ``features.<i>`` / ``classifier.<j>`` to the Keras names."""
    table, index = {}, 0
    for name in conv_names(blocks):
        table[f"features.{index}."] = f"{name}."
        index += 2 + (1 if name.endswith(f"conv{blocks[int(name[5]) - 1]}") else 0)
    table.update({"classifier.0.": "fc1.", "classifier.3.": "fc2.", "classifier.6.": "predictions."})

    def key_map(state: StateDict) -> StateDict:
        out = {}
        for key, value in state.items():
            prefix = key[: key.rindex(".") + 1]
            out[table.get(prefix, prefix) + key[len(prefix) :]] = value
        return out

    return key_map


def _spec(blocks: tuple[int, ...], url: str) -> WeightsSpec:
    return WeightsSpec(filename=url.rsplit("/", 1)[-1], url=url, key_map=torchvision_vgg_map(blocks))


VGG16_WEIGHTS = _spec(VGG16_BLOCKS, "https://download.pytorch.org/models/vgg16-397923af.pth")
VGG19_WEIGHTS = _spec(VGG19_BLOCKS, "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth")


@register_model(
    "vgg16",
    "vgg",
    (3, 224, 224),
    weights=VGG16_WEIGHTS,
    finetune_from="block5_conv1",  # the book (seed 004)
    description="VGG16 with Keras names; include_top=False is the conv base (14,714,688 params)",
)
def vgg16(num_classes: int, input_size: tuple[int, int, int], include_top: bool = True, **kwargs) -> VGG:
    """VGG16 (13 conv layers in 5 blocks, 3 dense layers)."""
    return VGG(num_classes, input_size, VGG16_BLOCKS, include_top=include_top, **kwargs)


@register_model(
    "vgg19",
    "vgg",
    (3, 224, 224),
    weights=VGG19_WEIGHTS,
    finetune_from="block5_conv1",
    description="VGG19 with Keras names; include_top=False is the conv base (20,024,384 params)",
)
def vgg19(num_classes: int, input_size: tuple[int, int, int], include_top: bool = True, **kwargs) -> VGG:
    """VGG19 (16 conv layers in 5 blocks, 3 dense layers)."""
    return VGG(num_classes, input_size, VGG19_BLOCKS, include_top=include_top, **kwargs)


@register_model(
    "vgg19_gap",
    "vgg",
    (3, 224, 224),
    num_classes=10,
    description="seed 001: VGG19 conv layers -> global average pool -> one linear layer (CAM-ready)",
)
def vgg19_gap(num_classes: int, input_size: tuple[int, int, int], activation: str = "relu") -> VGG:
    """The seed's CAM network; ``activation="leaky_relu"`` uses LeakyReLU(0.2) as the seed does."""
    return VGG(num_classes, input_size, VGG19_BLOCKS, head="gap", activation=activation)
