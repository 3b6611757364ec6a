"""Export a trained run or a pretrained model to ONNX or TorchScript, verified against PyTorch on real photos.

>>> from convlens.models.export import export_model
>>> result = export_model("runs/cats", "onnx")            # writes runs/cats/model.onnx
>>> result.max_abs_diff, result.top1_agreement             # onnxruntime against PyTorch fp32

The file carries its preprocessing (input size, mean/std, interpolation, crop, class names or ImageNet wnids,
label mode) as ONNX ``metadata_props`` or, for TorchScript, as the extra file ``convlens.json``;
:func:`read_metadata` reads either back. Before the file is moved into place it is run on a batch of real
photos (convlens' own preprocessing) and on a batch of one; it is only written when its logits are within
``tolerance`` of the eager fp32 model's.

``fast=True`` exports the model with every convolution + batch-norm pair folded into one convolution by
:func:`convlens.models.fast.fold_batchnorm`. For TorchScript that removes the batch-norm ops from the traced
graph and stores channels-last weights, the layout oneDNN convolutions run fastest in on CPUs. For ONNX it
changes no operator: both torch.onnx exporters already fold batch norm when they export in eval mode (and
onnxruntime fuses Conv + BatchNormalization on load anyway); only the folded weights are computed by convlens
instead of the exporter, which moves the logits by about 1e-6.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from convlens._extras import require_extra
from convlens._io import atomic_path
from convlens.errors import ConfigError, ExportError
from convlens.labels import probabilities
from convlens.models import _onnx
from convlens.models._export_source import (
    TORCHSCRIPT_METADATA,
    build_metadata,
    default_out,
    load_source,
    read_metadata,
    verification_images,
)
from convlens.models.fast import for_inference
from convlens.models.preprocess import load_batch

log = logging.getLogger(__name__)

FORMATS = ("onnx", "torchscript")
DEFAULT_OPSET = 18
TOLERANCE = 1e-4

__all__ = ["ExportError", "ExportResult", "export_model", "read_metadata"]


@dataclass
class ExportResult:
    """What :func:`export_model` wrote and how well it matches PyTorch.

    Attributes:
        path: the file written (absolute).
        format: ``onnx`` or ``torchscript``.
        input_size: ``(C, H, W)`` the model takes (the batch axis is free).
        opset: the ONNX opset (``None`` for TorchScript).
        fast: batch norm folded (and channels-last weights for TorchScript).
        exporter: ``dynamo`` or ``legacy`` (the ONNX exporter used), ``jit.trace`` for TorchScript.
        max_abs_diff: largest absolute logit difference from the eager fp32 model, over the verification batch
            and a batch of one.
        top1_agreement: share of verification photos whose top-1 class is the same.
        verified_images: number of photos in the verification batch.
        metadata: the preprocessing and label metadata stored in the file (JSON-encoded values).
    """

    path: Path
    format: str
    input_size: tuple[int, int, int]
    opset: int | None
    fast: bool
    exporter: str
    max_abs_diff: float
    top1_agreement: float
    verified_images: int
    metadata: dict[str, str] = field(repr=False)


def export_model(
    source: str | Path | nn.Module,
    fmt: str,
    out: str | Path | None = None,
    fast: bool = False,
    images: Sequence[str | Path] | None = None,
    opset: int = DEFAULT_OPSET,
    exporter: str = "auto",
    tolerance: float = TOLERANCE,
) -> ExportResult:
    """Export a run folder, a pretrained registry model or a model object to ``fmt``, then verify it.

    Args:
        source: a run folder of ``convlens train`` (any mode), a model name with pretrained weights
            (``efficientnet_lite0``), or a convlens model object. An existing folder wins over a model name.
        fmt: ``onnx`` or ``torchscript``.
        out: the file to write; default ``RUN/model.onnx`` (``model.pt``) for a run, ``./<name>.onnx``
            (``<name>.pt``) otherwise.
        fast: fold batch norm into the convolutions (TorchScript: also channels-last weights).
        images: photos (files or folders) to verify on; default: up to 8 of the run's data, else the
            built-in ``pets-mini`` photos.
        opset: ONNX opset.
        exporter: ONNX exporter: ``auto`` (dynamo, falling back to legacy), ``dynamo`` or ``legacy``
            (TorchScript-based; 5-10x quicker, deprecated by torch).
        tolerance: the largest absolute logit difference accepted (fp32).

    Returns:
        The :class:`ExportResult`.

    Raises:
        MissingExtra: ONNX export without ``convlens[export]`` installed.
        ExportError: the model cannot be exported, or the exported file disagrees with PyTorch (nothing is
            written then).
    """
    _check_options(fmt, exporter)
    item = load_source(source)
    model = item.model.cpu().eval()
    path = (Path(out) if out is not None else default_out(item, fmt)).absolute()
    x = load_batch(verification_images(item, images), model.pretrained_cfg)
    with torch.inference_mode():
        reference = model(x).float()
    metadata = build_metadata(item, reference.shape[1], fast)
    exported = for_inference(model, channels_last=fmt == "torchscript") if fast else model
    exporter_used, opset_used, diff, agreement = _write_verified(
        exported, fmt, path, x, reference, metadata, opset, exporter, tolerance
    )
    log.info("exported %s to %s (max abs diff %.3g)", item.name, path, diff)
    return ExportResult(
        path=path,
        format=fmt,
        input_size=tuple(int(v) for v in x.shape[1:]),  # type: ignore[arg-type]
        opset=opset_used,
        fast=fast,
        exporter=exporter_used,
        max_abs_diff=diff,
        top1_agreement=agreement,
        verified_images=len(x),
        metadata=metadata,
    )


def _check_options(fmt: str, exporter: str) -> None:
    """Refuse an unknown format or exporter, and ONNX without ``convlens[export]``, before loading anything."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}")
    if exporter not in _onnx.EXPORTERS:
        raise ConfigError(f"--exporter {exporter!r} is not one of: {', '.join(_onnx.EXPORTERS)}")
    if fmt == "onnx":
        require_extra("export", "ONNX export")


def _write_verified(
    model: nn.Module,
    fmt: str,
    path: Path,
    x: torch.Tensor,
    reference: torch.Tensor,
    metadata: dict[str, str],
    opset: int,
    exporter: str,
    tolerance: float,
) -> tuple[str, int, float, float]:
    """Write ``model`` to ``path`` as ``fmt`` only if the written file's logits on ``x`` match ``reference``.

    Returns the exporter and opset used, the largest absolute logit difference and the top-1 agreement.
    """
    example = torch.zeros(2, *x.shape[1:])
    with atomic_path(path) as tmp:
        if fmt == "onnx":
            exporter_used, opset_used, run = _write_onnx(model, example, tmp, metadata, opset, exporter)
        else:
            exporter_used, opset_used, run = _write_torchscript(model, example, tmp, metadata)
        diff, agreement = compare(run, x, reference)
        if not diff <= tolerance:
            raise ExportError(
                f"the exported {fmt} model's logits differ from PyTorch's by {diff:.3g} (> {tolerance:g}; top-1 "
                f"agreement {agreement:.1%}); {path} was not written. Try another exporter or --format "
                f"torchscript"
            )
    return exporter_used, opset_used, diff, agreement


def _write_onnx(
    model: nn.Module, example: torch.Tensor, path: Path, metadata: dict[str, str], opset: int, exporter: str
) -> tuple[str, int, Callable[[torch.Tensor], torch.Tensor]]:
    proto, used = _onnx.to_onnx(model, example, opset, exporter)
    _onnx.write_onnx(proto, metadata, path)
    return used, _onnx.opset_of(proto), _onnx.onnx_runner(path)


def _write_torchscript(
    model: nn.Module, example: torch.Tensor, path: Path, metadata: dict[str, str]
) -> tuple[str, None, Callable[[torch.Tensor], torch.Tensor]]:
    channels_last = next(model.parameters()).is_contiguous(memory_format=torch.channels_last)
    if channels_last:
        example = example.contiguous(memory_format=torch.channels_last)
    with warnings.catch_warnings(), torch.no_grad():
        # torch.jit is deprecated in favour of torch.export, and shape arithmetic (TF "SAME" padding) is traced
        # as constants: fine, since only the batch axis may vary
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, example, check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={TORCHSCRIPT_METADATA: json.dumps(metadata)})
        loaded = torch.jit.load(str(path), map_location="cpu")

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return loaded(x).float()

    return "jit.trace", None, run


def compare(
    run: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, reference: torch.Tensor
) -> tuple[float, float]:
    """Max abs logit difference (the batch and a batch of one) and top-1 agreement of ``run`` with PyTorch."""
    logits = run(x).float()
    single = run(x[:1]).float()
    if logits.shape != reference.shape or single.shape != reference[:1].shape:
        raise ExportError(
            f"the exported model returned shape {tuple(logits.shape)} for a batch of {len(x)}, expected "
            f"{tuple(reference.shape)}; nothing was written"
        )
    diff = max(float((logits - reference).abs().max()), float((single - reference[:1]).abs().max()))
    same = probabilities(logits).argmax(1) == probabilities(reference).argmax(1)
    return diff, float(same.float().mean())
