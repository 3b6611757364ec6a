"""The service layer: one function per user action, typed options in, a typed result out.

The CLI, the web app and notebooks all call these; none of them orchestrates. Progress and messages go
through a :class:`Reporter` (rich bars in the CLI, an event stream in the web app, nothing in tests): pass one
as ``reporter=``, or leave it out and get silence.

>>> from convlens import service
>>> result = service.predict(service.PredictOptions(images=[Path("cat.jpg")]))
>>> result.records[0]["top"][0]["label"]
"""

from convlens._reporting import CollectingReporter, QuietReporter, Reporter
from convlens.service.data import (
    CacheInfo,
    PreviewOptions,
    PreviewResult,
    SplitOptions,
    augment_preview,
    cache,
    info,
    parse_fractions,
    split,
)
from convlens.service.explaining import (
    ActivationsOptions,
    ActivationsResult,
    ExplainOptions,
    ExplainResult,
    FiltersOptions,
    FiltersResult,
    activations,
    explain,
    filters,
)
from convlens.service.models import (
    ExportOptions,
    ModelInfo,
    PredictOptions,
    PredictResult,
    SummaryOptions,
    export,
    list_models,
    predict,
    summary,
)
from convlens.service.reporting import ReportOptions, ReportResult, report
from convlens.service.sources import load_model
from convlens.service.training import EvaluateOptions, EvaluateResult, evaluate, parse_class_map, train

__all__ = [
    "ActivationsOptions",
    "ActivationsResult",
    "CacheInfo",
    "CollectingReporter",
    "EvaluateOptions",
    "EvaluateResult",
    "ExplainOptions",
    "ExplainResult",
    "ExportOptions",
    "FiltersOptions",
    "FiltersResult",
    "ModelInfo",
    "PredictOptions",
    "PredictResult",
    "PreviewOptions",
    "PreviewResult",
    "QuietReporter",
    "ReportOptions",
    "ReportResult",
    "Reporter",
    "SplitOptions",
    "SummaryOptions",
    "activations",
    "augment_preview",
    "cache",
    "evaluate",
    "explain",
    "export",
    "filters",
    "info",
    "list_models",
    "load_model",
    "parse_class_map",
    "parse_fractions",
    "predict",
    "report",
    "split",
    "summary",
    "train",
]
