"""Device and precision choices: bf16 autocast + channels_last where the hardware gains, AMP on CUDA."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from convlens.models.fast import cpu_has_fast_bf16

log = logging.getLogger(__name__)


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
    ``auto`` uses bf16 + channels_last only when the CPU has native bf16 units, else fp32 + channels_last (the
    seed's small convnet trains 1.2x faster in fp32 with channels_last than in NCHW on a 2-core AMD EPYC;
    benchmarks/RESULTS.md). ``fp32`` keeps the plain NCHW layout.
    """
    if choice == "fp32":
        return Precision(device, None, False, False)
    if device.type == "cuda":
        if choice == "bf16" or torch.cuda.is_bf16_supported():
            return Precision(device, torch.bfloat16, True, False)
        return Precision(device, torch.float16, True, True)
    if cpu_has_fast_bf16():
        return Precision(device, torch.bfloat16, True, False)
    if choice == "bf16":
        from convlens import _reporting

        _reporting.warn(
            "this CPU has no native bf16 units (AMX / AVX-512 BF16), where bf16 runs many times slower: using fp32"
        )
    log.info("CPU lacks native bf16 units: running in fp32 + channels_last")
    return Precision(device, None, True, False)


def describe(precision: Precision) -> str:
    """One line for the start of a run: device, precision, memory format, threads."""
    where = precision.device.type
    if where == "cuda":
        where = f"cuda:{precision.device.index or 0} ({torch.cuda.get_device_name(precision.device)})"
    mode = {"bf16": "bf16 autocast", "fp16": "fp16 autocast + loss scaling", "fp32": "fp32"}[precision.name]
    layout = " + channels_last" if precision.channels_last else ""
    return f"device {where} · precision {mode}{layout} · threads {torch.get_num_threads()} · torch {torch.__version__}"


def environment(precision: Precision) -> dict[str, object]:
    """What a run records about where it ran (the report's header)."""
    import platform

    import torchvision

    from convlens import __version__

    return {
        "device": str(precision.device),
        "precision": precision.name,
        "channels_last": precision.channels_last,
        "threads": torch.get_num_threads(),
        "cpu_native_bf16": cpu_has_fast_bf16(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "convlens": __version__,
        "platform": platform.platform(),
    }


def default_device(local_rank: int | None = None) -> torch.device:
    """CUDA (this process's GPU under torchrun) when available, else the CPU."""
    if torch.cuda.is_available():
        index = local_rank if local_rank is not None else torch.cuda.current_device()
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    return torch.device("cpu")
