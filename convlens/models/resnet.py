"""Residual networks (He et al. 2015) and their *plain* twins of the same depth, for seed 001's degradation
experiment: the same layers, with and without the identity shortcuts.

- CIFAR-style ``resnet20/32/56/110`` and ``plain20/32/56/110``: 3 stages of 16/32/64 channels, 6n+2 layers.
- ImageNet-style ``resnet18/34/50`` and ``plain18/34/50``: torchvision's layout and parameter names, so the
  residual ones load torchvision's ImageNet weights unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.models._base import ConvClassifier, make_cfg
from convlens.models._factory import register_model
from convlens.models.vgg import IMAGENET_MEAN, IMAGENET_STD
from convlens.models.weights import WeightsSpec


def _bn_conv(c_in: int, c_out: int, k: int, stride: int = 1) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions; adds the (projected) input when ``residual``."""

    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.conv1, self.bn1 = _bn_conv(c_in, width, 3, stride)
        self.conv2, self.bn2 = _bn_conv(width, width, 3)
        self.relu = nn.ReLU(inplace=True)
        self.residual = residual
        c_out = width * self.expansion
        self.downsample = (
            _projection(c_in, c_out, stride) if residual and (stride != 1 or c_in != c_out) else None
        )

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.branch(x)
        if self.residual:
            y = y + (self.downsample(x) if self.downsample is not None else x)
        return self.relu(y)


class Bottleneck(BasicBlock):
    """1x1 reduce, 3x3, 1x1 expand (x4), as torchvision's ResNet-50 (stride on the 3x3)."""

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int, residual: bool) -> None:
        super().__init__(c_in, width, stride, residual)
        self.conv1, self.bn1 = _bn_conv(c_in, width, 1)
        self.conv2, self.bn2 = _bn_conv(width, width, 3, stride)
        self.conv3, self.bn3 = _bn_conv(width, width * 4, 1)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))
        return self.bn3(self.conv3(y))


def _projection(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class ResNet(ConvClassifier):
    """A stem, stages ``layer1``... of blocks, global average pooling and ``fc``."""

    classifier_attr = "fc"

    def __init__(
        self,
        num_classes: int,
        input_size: tuple[int, int, int],
        block: type[BasicBlock],
        depths: tuple[int, ...],
        widths: tuple[int, ...],
        residual: bool = True,
        imagenet_stem: bool = True,
    ) -> None:
        super().__init__()
        stem = widths[0]
        self.conv1, self.bn1 = _bn_conv(
            input_size[0], stem, 7 if imagenet_stem else 3, 2 if imagenet_stem else 1
        )
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if imagenet_stem else nn.Identity()
        c_in = stem
        for i, (depth, width) in enumerate(zip(depths, widths)):
            stride = 1 if i == 0 else 2
            blocks = [
                block(c_in if j == 0 else width * block.expansion, width, stride if j == 0 else 1, residual)
                for j in range(depth)
            ]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            c_in = width * block.expansion
        self.fc = nn.Linear(c_in, num_classes)
        self.n_stages = len(depths)
        self._layer_names = ["conv1", *(f"layer{i + 1}" for i in range(len(depths))), "fc"]
        mean_std = (IMAGENET_MEAN, IMAGENET_STD) if imagenet_stem else (None, None)
        self.pretrained_cfg = make_cfg(
            input_size, num_classes, *mean_std, "bilinear", 0.875 if imagenet_stem else 1.0
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.n_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return x

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(features.mean(dim=(2, 3)))


def _register_cifar(depth: int) -> None:
    n = (depth - 2) // 6
    for residual, prefix in ((True, "resnet"), (False, "plain")):
        kind = "residual" if residual else "plain (no shortcuts)"

        def factory(num_classes: int, input_size: tuple[int, int, int], _r: bool = residual) -> ResNet:
            return ResNet(
                num_classes, input_size, BasicBlock, (n,) * 3, (16, 32, 64), _r, imagenet_stem=False
            )

        factory.__doc__ = f"CIFAR-style {kind} network of {depth} layers (3 stages of {n} blocks)."
        register_model(
            f"{prefix}{depth}",
            "resnet",
            (3, 32, 32),
            num_classes=10,
            description=f"CIFAR-style {kind}, {depth} layers",
            finetune_from="layer3",
        )(factory)


_TV = {
    18: (BasicBlock, (2, 2, 2, 2), "resnet18-f37072fd.pth"),
    34: (BasicBlock, (3, 4, 6, 3), "resnet34-b627a593.pth"),
    50: (Bottleneck, (3, 4, 6, 3), "resnet50-0676ba61.pth"),
}


def _register_imagenet(depth: int) -> None:
    block, depths, filename = _TV[depth]
    spec = WeightsSpec(filename=filename, url=f"https://download.pytorch.org/models/{filename}")
    for residual, prefix in ((True, "resnet"), (False, "plain")):
        kind = "residual" if residual else "plain (no shortcuts)"

        def factory(num_classes: int, input_size: tuple[int, int, int], _r: bool = residual) -> ResNet:
            return ResNet(num_classes, input_size, block, depths, (64, 128, 256, 512), _r)

        factory.__doc__ = f"ImageNet-style {kind} network of {depth} layers (torchvision layout)."
        register_model(
            f"{prefix}{depth}",
            "resnet",
            (3, 224, 224),
            weights=spec if residual else None,
            finetune_from="layer4",
            description=f"ImageNet-style {kind}, {depth} layers",
        )(factory)


for _depth in (20, 32, 56, 110):
    _register_cifar(_depth)
for _depth in (18, 34, 50):
    _register_imagenet(_depth)
