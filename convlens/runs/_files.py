"""The names of everything a run folder holds; only :mod:`convlens.runs` uses them."""

from __future__ import annotations

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
BEST = "best"
HISTORY_CSV = "history.csv"
HISTORY_JSON = "history.json"
CURVES = "curves.png"
CURVES_SMOOTHED = "curves_smoothed.png"
STATE_JSON = "train_state.json"  # the resume manifest, written last
STATE_TENSORS = "train_state.safetensors"
RESUME = "resume"  # resume/epoch-NNNN/: the weights and training state the manifest points at
METRICS = "metrics.json"  # the latest evaluation; metrics_<split>.json per split
REPORT = "report.html"
TENSORBOARD = "tb"
LOCK = ".convlens.lock"

# What a run writes (and so what --overwrite may remove); anything else in the folder belongs to the user.
OWN_PATTERNS = (
    CONFIG,
    WEIGHTS,
    BEST,
    HISTORY_CSV,
    HISTORY_JSON,
    CURVES,
    CURVES_SMOOTHED,
    STATE_JSON,
    STATE_TENSORS,
    RESUME,
    METRICS,
    "metrics_*.json",
    "predictions_*.json",
    "confusion_*.png",
    "confusion_*.csv",
    "top_losses_*.png",
    REPORT,
    "model.onnx",
    "model.pt",
    TENSORBOARD,
    LOCK,
    ".*.tmp-*",
)
