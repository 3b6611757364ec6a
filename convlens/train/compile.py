"""``--compile``: the training step through ``torch.compile``, its generated kernels cached on disk.

The first step of a run pays for compiling (tens of seconds on a CPU); the kernels and graphs land in the
convlens cache (``<cache>/inductor``, or ``$TORCHINDUCTOR_CACHE_DIR`` when set), so a second run of the same
network and batch shape starts from them. Validation and checkpoints use the plain module: the weights are shared.
"""

from __future__ import annotations

import os
import shutil

import torch
from torch import nn

from convlens._paths import cache_root
from convlens.errors import ConfigError

COMPILERS = ("g++", "clang++", "c++")  # looked up on PATH unless $CXX names one


def inductor_cache() -> str:
    """The folder of compiled artefacts: ``$TORCHINDUCTOR_CACHE_DIR`` when set, else ``<cache>/inductor``.

    Inductor reads its cache folder only from that variable (and sets it itself when unset), so this sets it once.
    """
    return os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_root("inductor")))


def compile_model(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` compiled for its training step; a clear error where the compiler cannot work."""
    if device.type == "cpu" and not _cxx():
        raise ConfigError(
            "--compile on a CPU needs a C++ compiler (g++ or clang++ on PATH, or $CXX); install one or drop --compile"
        )
    inductor_cache()
    return torch.compile(model)


def _cxx() -> str | None:
    explicit = os.environ.get("CXX")
    if explicit:
        return shutil.which(explicit)
    return next((found for name in COMPILERS if (found := shutil.which(name))), None)
