"""Inference fast path for CPUs and GPUs: batch norm folded into convolutions, channels-last memory,
bf16 autocast where the hardware multiplies bf16 natively (fp32 stays the default where exactness matters)."""

from __future__ import annotations

import copy
import functools
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AMX or AVX-512 BF16): autocast then pays off.

    Without them (many AMD EPYC hosts) bf16 autocast runs convolutions many times *slower* than fp32.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def bf16_pays(device: str | torch.device) -> bool:
    """Whether bf16 autocast speeds ``device`` up (CUDA with bf16 support, or a CPU with native bf16)."""
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.cuda.is_bf16_supported()
    return kind == "cpu" and cpu_has_fast_bf16()


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
