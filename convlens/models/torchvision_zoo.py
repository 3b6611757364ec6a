"""torchvision backbones under the convlens contract, one row per "application" the book names.

The torchvision network lives in ``self.net`` (its parameter names prefixed by ``net.``); weights come through
torchvision's weights registry (file name and URL), resolved offline by :mod:`convlens.models.weights`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from convlens.models._base import ConvClassifier, make_cfg
from convlens.models._factory import register_model
from convlens.models.vgg import IMAGENET_MEAN, IMAGENET_STD
from convlens.models.weights import StateDict, WeightsSpec

_INCEPTION_TRUNK = (
    "Conv2d_1a_3x3",
    "Conv2d_2a_3x3",
    "Conv2d_2b_3x3",
    "maxpool1",
    "Conv2d_3b_1x1",
    "Conv2d_4a_3x3",
    "maxpool2",
    "Mixed_5b",
    "Mixed_5c",
    "Mixed_5d",
    "Mixed_6a",
    "Mixed_6b",
    "Mixed_6c",
    "Mixed_6d",
    "Mixed_6e",
    "Mixed_7a",
    "Mixed_7b",
    "Mixed_7c",
)


class TorchvisionNet(ConvClassifier):
    """A torchvision classifier split into ``forward_features`` (its trunk) and ``forward_head``."""

    def __init__(
        self,
        net: nn.Module,
        trunk: list[str],
        head: str,
        input_size: tuple[int, int, int],
        num_classes: int,
        mean_std: tuple = (IMAGENET_MEAN, IMAGENET_STD),
        final_relu: bool = False,
    ) -> None:
        super().__init__()
        self.net = net
        self.trunk = trunk
        self.head_path = head
        self.final_relu = final_relu
        self._layer_names = [f"net.{name}" for name in trunk] + [f"net.{head}"]
        self.pretrained_cfg = make_cfg(input_size, num_classes, *mean_std, "bilinear", 0.875)

    def _trunk_modules(self) -> list[nn.Module]:
        return [self.net.get_submodule(name) for name in self.trunk]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        for module in self._trunk_modules():
            x = module(x)
        return F.relu(x) if self.final_relu else x

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.net.get_submodule(self.head_path)(torch.flatten(F.adaptive_avg_pool2d(features, 1), 1))

    def get_classifier(self) -> nn.Module:
        head = self.net.get_submodule(self.head_path)
        return head[-1] if isinstance(head, nn.Sequential) else head

    def reset_classifier(self, num_classes: int) -> None:
        old = self.get_classifier()
        new = nn.Linear(old.in_features, num_classes)
        head = self.net.get_submodule(self.head_path)
        if isinstance(head, nn.Sequential):
            head[-1] = new
        else:
            setattr(self.net, self.head_path, new)
        self.pretrained_cfg = {**self.pretrained_cfg, "num_classes": num_classes, "labels": None}


def _prefix(state: StateDict) -> StateDict:
    return {f"net.{k}": v for k, v in state.items()}


def _spec(weights_name: str) -> WeightsSpec:
    url = torchvision.models.get_weight(weights_name).url
    return WeightsSpec(filename=url.rsplit("/", 1)[-1], url=url, key_map=_prefix)


def _features_trunk(net: nn.Module) -> list[str]:
    return [f"features.{child}" for child, _ in net.features.named_children()]


_ZOO: dict[str, tuple[Callable[..., nn.Module], str, str, str]] = {
    # name: (builder, weights, head attribute, description)
    "mobilenet_v2": (
        torchvision.models.mobilenet_v2,
        "MobileNet_V2_Weights.IMAGENET1K_V1",
        "classifier",
        "MobileNetV2",
    ),
    "mobilenet_v3_small": (
        torchvision.models.mobilenet_v3_small,
        "MobileNet_V3_Small_Weights.IMAGENET1K_V1",
        "classifier",
        "MobileNetV3-Small",
    ),
    "mobilenet_v3_large": (
        torchvision.models.mobilenet_v3_large,
        "MobileNet_V3_Large_Weights.IMAGENET1K_V1",
        "classifier",
        "MobileNetV3-Large",
    ),
    "efficientnet_b0": (
        torchvision.models.efficientnet_b0,
        "EfficientNet_B0_Weights.IMAGENET1K_V1",
        "classifier",
        "EfficientNet-B0 (torchvision)",
    ),
    "densenet121": (
        torchvision.models.densenet121,
        "DenseNet121_Weights.IMAGENET1K_V1",
        "classifier",
        "DenseNet-121",
    ),
    "inception_v3": (
        torchvision.models.inception_v3,
        "Inception_V3_Weights.IMAGENET1K_V1",
        "fc",
        "Inception V3 (299 px)",
    ),
}


def _register(name: str) -> None:
    builder, weights_name, head, description = _ZOO[name]
    inception = name == "inception_v3"
    size = (3, 299, 299) if inception else (3, 224, 224)

    def factory(num_classes: int, input_size: tuple[int, int, int]) -> TorchvisionNet:
        kwargs = {"aux_logits": False, "init_weights": False, "transform_input": False} if inception else {}
        net = builder(weights=None, num_classes=num_classes, **kwargs)
        trunk = list(_INCEPTION_TRUNK) if inception else _features_trunk(net)
        # Inception's weights expect (x - 0.5) / 0.5 (torchvision's transform_input does that conversion).
        mean_std = ((0.5,) * 3, (0.5,) * 3) if inception else (IMAGENET_MEAN, IMAGENET_STD)
        return TorchvisionNet(
            net, trunk, head, input_size, num_classes, mean_std, final_relu=name == "densenet121"
        )

    factory.__doc__ = f"torchvision's {description} under the convlens contract."
    register_model(
        name,
        "torchvision",
        size,
        weights=_spec(weights_name),
        description=f"torchvision {description}; weights via the hub cache",
    )(factory)


for _name in _ZOO:
    _register(_name)
