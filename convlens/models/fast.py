"""Inference fast path for CPUs and GPUs: batch norm folded into convolutions, channels-last memory,
bf16 autocast (AMX/AVX-512 on CPUs; fp32 stays the default where exactness matters)."""

from __future__ import annotations

import copy
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (eval mode) whose ``conv`` + ``bn`` pairs are folded into one convolution."""
    model = copy.deepcopy(model).eval()
    for module in model.modules():
        conv, bn = getattr(module, "conv", None), getattr(module, "bn", None)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
            fused = fuse_conv_bn_eval(conv, bn)
            conv.weight, conv.bias = fused.weight, fused.bias
            module.bn = nn.Identity()
    return model


def for_inference(model: nn.Module, channels_last: bool = True) -> nn.Module:
    """``fold_batchnorm`` plus channels-last weights: the model to use with :func:`autocast`."""
    model = fold_batchnorm(model)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def autocast(device: str = "cpu", enabled: bool = True) -> Any:
    """bf16 autocast on ``device`` (a no-op context when disabled)."""
    return torch.autocast(device, dtype=torch.bfloat16) if enabled else nullcontext()
