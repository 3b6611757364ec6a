"""ONNX through ``torch.onnx``: the graph with a dynamic batch axis, metadata, and an onnxruntime runner.

torch 2.14 exports with the ``torch.export``-based ("dynamo") exporter by default; the TorchScript-based one
("legacy") is deprecated but still there. Both give the same logits on every convlens family tried
(small_convnet, mnist_cnn, a features run's base + dense head, EfficientNet-Lite0: differences below 1e-5);
``exporter="auto"`` uses the supported one, dynamo, and falls back to legacy when a model cannot be captured;
the result says which one wrote the file. Legacy is 5-10x quicker on a CPU (Lite0: about 4 s against 25 s),
which is why it stays selectable.
"""

from __future__ import annotations

import inspect
import io
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens.errors import ExportError

log = logging.getLogger(__name__)

EXPORTERS = ("auto", "dynamo", "legacy")
INPUT_NAME, OUTPUT_NAME = "input", "logits"


def to_onnx(model: nn.Module, example: torch.Tensor, opset: int, exporter: str = "auto") -> tuple[Any, str]:
    """The ``onnx.ModelProto`` of ``model`` (eval mode) with batch axis 0 dynamic, and the exporter used.

    Args:
        model: the model to export (in eval mode).
        example: an input batch of 2 or more (a batch of 1 would let ``torch.export`` fix the batch size).
        opset: the ONNX opset to target.
        exporter: ``auto`` (dynamo, then legacy on failure), ``dynamo`` or ``legacy`` (TorchScript-based).
    """
    if exporter not in EXPORTERS:
        raise ExportError(f"exporter {exporter!r} is not one of: {', '.join(EXPORTERS)}")
    if exporter in ("auto", "dynamo"):
        try:
            return _dynamo(model, example, opset), "dynamo"
        except Exception as exc:  # torch.export raises many types; every one means "cannot capture"
            if exporter == "dynamo":
                raise ExportError(
                    f"the dynamo ONNX exporter failed ({type(exc).__name__}: {exc}); try --exporter legacy"
                ) from exc
            log.warning("dynamo ONNX export failed (%s); using the legacy TorchScript-based exporter", exc)
    try:
        return _legacy(model, example, opset), "legacy"
    except Exception as exc:
        raise ExportError(
            f"torch.onnx could not export {type(model).__name__} ({type(exc).__name__}: {exc}); "
            f"export --format torchscript instead"
        ) from exc


def _dynamo(model: nn.Module, example: torch.Tensor, opset: int) -> Any:
    program = torch.onnx.export(
        model,
        (example,),
        None,
        dynamo=True,
        verbose=False,
        external_data=False,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        opset_version=opset,
        dynamic_shapes=({0: torch.export.Dim("batch")},),
    )
    return program.model_proto


def _legacy(model: nn.Module, example: torch.Tensor, opset: int) -> Any:
    import onnx

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # the deprecation notice, and shape arithmetic traced as constants: only the batch axis may vary
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            (example,),
            buffer,
            **({"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    return onnx.load_from_string(buffer.getvalue())


def opset_of(proto: Any) -> int:
    """The default-domain opset a model was written for."""
    return next(int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def write_onnx(proto: Any, metadata: dict[str, str], path: Path) -> None:
    """Add ``metadata`` as ``metadata_props``, check the model and write it as one self-contained file."""
    import onnx

    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto)
    path.write_bytes(proto.SerializeToString())


def read_onnx_metadata(path: str | Path) -> dict[str, str]:
    """``metadata_props`` of an ONNX file as a dict (the graph's weights are not loaded)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


def onnx_runner(path: Path) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> logits`` through an onnxruntime CPU session (fp32, every CPU thread)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {name: x.detach().cpu().float().numpy()})[0])

    return run
