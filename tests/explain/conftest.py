"""Tiny CPU models for the explain tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn


class TinyNet(nn.Module):
    """conv-relu-conv-relu (8x8 maps, as big as the input) -> GAP -> linear; ``layer_names``/``get_classifier``."""

    def __init__(self, num_classes: int = 5, channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU()
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, f: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(f).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.fc

    def layer_names(self) -> list[str]:
        return ["features.0", "features.1", "features.2", "features.3"]


def make_tiny(num_classes: int = 5, seed: int = 0) -> TinyNet:
    torch.manual_seed(seed)
    model = TinyNet(num_classes)
    with torch.no_grad():  # a spread of logits, so targets and maps are well defined
        model.fc.weight.mul_(4)
    return model.eval()


@pytest.fixture
def tiny() -> TinyNet:
    return make_tiny()


@pytest.fixture
def images() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(3, 3, 8, 8)
