"""View models: plain dataclasses holding exactly what a report page shows.

The builders (:mod:`convlens.report.html.build`) fill them from a run folder; the templates only read them.
Images are already encoded as ``data:`` URIs (:class:`Picture`), so a view can be rendered anywhere (the
static report, the web app) without touching the disk. Every string may be user input (class and file
names); the templates escape it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SPLIT_ORDER = ("train", "validation", "test")


@dataclass
class Picture:
    """One embedded image: a ``data:`` URI, its alt text and an optional caption."""

    uri: str
    alt: str
    caption: str = ""
    width: int = 0
    height: int = 0


@dataclass
class Fact:
    """One labelled value of the run header (``value`` is shown as text; empty values are left out)."""

    label: str
    value: str


@dataclass
class RunHeader:
    """Who, what and how of one run: model, data, trainable weights, environment, the command."""

    name: str
    model: str = ""
    mode: str = ""
    base: str = ""
    unfreeze_from: str = ""
    data: str = ""
    classes: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    trainable_params: int | None = None
    frozen_params: int | None = None
    trainable_tensors: int | None = None
    tensors_before: int | None = None
    precision: str = ""
    device: str = ""
    threads: int | None = None
    wall_time_s: float | None = None
    versions: dict[str, str] = field(default_factory=dict)
    command: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    epochs_done: int | None = None

    @property
    def count_splits(self) -> list[str]:
        """Split names of ``counts`` in train / validation / test order, then any others."""
        return sorted(self.counts, key=split_key)

    def count(self, split: str, name: str) -> int | None:
        return self.counts.get(split, {}).get(name)

    def split_total(self, split: str) -> int:
        return sum(self.counts.get(split, {}).values())


@dataclass
class Curves:
    """The history of a run: one dict per epoch (``epoch``, ``loss``, ``acc``, ``val_loss``, ``val_acc``...)."""

    rows: list[dict[str, float]] = field(default_factory=list)
    smoothing: float = 0.8

    @property
    def columns(self) -> list[str]:
        """Every key of the rows, the book's four first."""
        keys = {k for row in self.rows for k in row}
        known = [k for k in ("epoch", "loss", "acc", "val_loss", "val_acc") if k in keys]
        return known + sorted(keys - set(known))

    @property
    def best_epoch(self) -> int | None:
        """The epoch with the lowest ``val_loss`` (first one on ties), or ``None`` without validation."""
        rows = [r for r in self.rows if isinstance(r.get("val_loss"), (int, float))]
        if not rows:
            return None
        best = min(rows, key=lambda r: r["val_loss"])
        return int(best.get("epoch", self.rows.index(best) + 1))


@dataclass
class ClassScores:
    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class CellImage:
    """A misclassified image of one confusion cell: the photo and Grad-CAM for the predicted and true class."""

    name: str
    photo: Picture | None
    overlay_pred: Picture | None
    overlay_true: Picture | None
    prob_pred: float | None = None
    loss: float | None = None


@dataclass
class ConfusionCell:
    """One off-diagonal (true, predicted) cell with images: ``count`` in total, ``images`` the ones shown."""

    true: int
    pred: int
    count: int
    images: list[CellImage] = field(default_factory=list)
    more: list[str] = field(default_factory=list)


@dataclass
class TopLoss:
    """One of the images with the largest loss."""

    name: str
    true: str
    pred: str
    prob_pred: float
    loss: float
    photo: Picture | None
    overlay: Picture | None

    @property
    def correct(self) -> bool:
        return self.true == self.pred


@dataclass
class SplitEvaluation:
    """Everything ``metrics_<split>.json`` and ``predictions_<split>.json`` say about one split."""

    split: str
    classes: list[str]
    accuracy: float | None = None
    loss: float | None = None
    count: int | None = None
    data: str = ""
    tta: str = ""  # test-time views averaged (``evaluate --tta``); empty for the photo alone
    per_class: list[ClassScores] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)
    cells: dict[tuple[int, int], ConfusionCell] = field(default_factory=dict)
    has_predictions: bool = False
    top_losses: list[TopLoss] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """A safe id fragment for this split (split names come from file names)."""
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in self.split) or "split"


@dataclass
class Extras:
    """Optional pictures of a run folder: augmentation preview, activations, filter patterns."""

    augmentation: list[Picture] = field(default_factory=list)
    activations: list[Picture] = field(default_factory=list)
    filters: list[Picture] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.augmentation or self.activations or self.filters)


@dataclass
class SkippedFile:
    path: str
    reason: str


@dataclass
class RunReport:
    """One run's whole story."""

    header: RunHeader
    curves: Curves
    evaluations: list[SplitEvaluation] = field(default_factory=list)
    extras: Extras = field(default_factory=Extras)
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    overlay_cmap: str = "jet"
    generated: str = ""
    cams: bool = True  # False: the page was made without a model (``--no-cams``), photos only

    @property
    def title(self) -> str:
        return f"convlens report: {self.header.name}"

    @property
    def top_loss_split(self) -> SplitEvaluation | None:
        """The split whose top losses the page shows (the first one that has them)."""
        return next((e for e in self.evaluations if e.top_losses), None)


@dataclass
class ComparedRun:
    """One row of the comparison: a run's header, its history and its evaluated accuracies."""

    header: RunHeader
    curves: Curves
    accuracy: dict[str, float] = field(default_factory=dict)

    @property
    def best_val_acc(self) -> float | None:
        values = [r["val_acc"] for r in self.curves.rows if isinstance(r.get("val_acc"), (int, float))]
        return max(values) if values else None


@dataclass
class ComparisonReport:
    """Several runs on one page: overlaid curves and a metrics table."""

    runs: list[ComparedRun]
    notes: list[str] = field(default_factory=list)
    generated: str = ""

    @property
    def title(self) -> str:
        return f"convlens comparison of {len(self.runs)} runs"

    @property
    def splits(self) -> list[str]:
        names = {s for run in self.runs for s in run.accuracy}
        return sorted(names, key=split_key)


@dataclass
class MethodResult:
    """One explanation method on one image: its overlay and, with ``--evaluate``, its faithfulness scores."""

    method: str
    overlay: Picture | None
    panels: Picture | None = None
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class ExplainedImage:
    name: str
    methods: list[MethodResult] = field(default_factory=list)
    photo: Picture | None = None


@dataclass
class LeaderboardRow:
    method: str
    images: int
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class ExplanationReport:
    """An ``explain`` output folder: the methods side by side per image, and the leaderboard when present."""

    name: str
    images: list[ExplainedImage] = field(default_factory=list)
    leaderboard: list[LeaderboardRow] = field(default_factory=list)
    leaderboard_picture: Picture | None = None
    total_images: int = 0
    score_keys: list[str] = field(default_factory=list)
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    generated: str = ""

    @property
    def title(self) -> str:
        return f"convlens explanations: {self.name}"


def split_key(name: str) -> tuple[int, str]:
    return (SPLIT_ORDER.index(name) if name in SPLIT_ORDER else len(SPLIT_ORDER), name)
