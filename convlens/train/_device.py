"""Device and precision choices: bf16 autocast + channels_last where the hardware gains, AMP on CUDA."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AMX or AVX-512 BF16): autocast then pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


@dataclass(frozen=True)
class Precision:
    """How the forward pass runs: the autocast dtype (or ``None``), memory format, and loss scaling."""

    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool
    grad_scaling: bool

    @property
    def name(self) -> str:
        """``bf16``, ``fp16`` or ``fp32``."""
        return {torch.bfloat16: "bf16", torch.float16: "fp16", None: "fp32"}[self.autocast_dtype]

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Autocast context for the forward pass and the loss (a no-op in fp32)."""
        if self.autocast_dtype is None:
            yield
            return
        with torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype):
            yield


def resolve_precision(choice: str, device: torch.device) -> Precision:
    """Turn ``auto``/``bf16``/``fp32`` into a :class:`Precision` for ``device``.

    On CUDA, ``auto`` uses bf16 where supported and fp16 with a gradient scaler elsewhere; on CPUs,
    ``auto`` uses bf16 + channels_last only when the CPU has native bf16 units (else fp32, which is faster there).
    """
    if choice == "fp32":
        return Precision(device, None, False, False)
    if device.type == "cuda":
        if choice == "bf16" or torch.cuda.is_bf16_supported():
            return Precision(device, torch.bfloat16, True, False)
        return Precision(device, torch.float16, True, True)
    if choice == "bf16" or cpu_has_fast_bf16():
        return Precision(device, torch.bfloat16, True, False)
    log.info("CPU lacks native bf16 units: training in fp32")
    return Precision(device, None, False, False)


def default_device(local_rank: int | None = None) -> torch.device:
    """CUDA (this process's GPU under torchrun) when available, else the CPU."""
    if torch.cuda.is_available():
        index = local_rank if local_rank is not None else torch.cuda.current_device()
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    return torch.device("cpu")
