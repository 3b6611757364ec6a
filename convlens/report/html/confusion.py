"""The confusion matrix as an HTML table model: heat colours (row-normalised), counts, links to cell galleries.

Up to :data:`COMPACT_ABOVE` classes the whole matrix is shown. Above that (ImageNet-style class counts) a
120 x 120 table of tiny cells is unreadable, so the table keeps the :data:`COMPACT_ABOVE` classes with the most
errors (as true or as predicted class, in their original order so the diagonal stays a diagonal) and says so;
the list of every confused pair, most frequent first, links to every cell's images either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convlens.report.html.views import SplitEvaluation

COMPACT_ABOVE = 30
# ColorBrewer Blues / Oranges end points: correct (diagonal) and wrong (off-diagonal) shares, legible in grey.
DIAGONAL_RGB = (8, 81, 156)
OFF_DIAGONAL_RGB = (166, 54, 3)


@dataclass
class HeatCell:
    """One table cell: its count, its share of the row, colours, and the gallery it links to (or ``None``)."""

    true: int
    pred: int
    count: int
    share: float
    background: str
    foreground: str
    href: str | None = None


@dataclass
class HeatRow:
    index: int
    name: str
    total: int
    cells: list[HeatCell] = field(default_factory=list)

    @property
    def elsewhere(self) -> int:
        """Images of this row predicted as a class the compact table leaves out."""
        return self.total - sum(c.count for c in self.cells)


@dataclass
class ConfusedPair:
    true: int
    pred: int
    true_name: str
    pred_name: str
    count: int
    share: float
    href: str | None


@dataclass
class ConfusionTable:
    columns: list[tuple[int, str]]
    rows: list[HeatRow]
    pairs: list[ConfusedPair]
    total_classes: int
    compact: bool

    @property
    def rotate_headers(self) -> bool:
        return len(self.columns) > 6 or any(len(name) > 12 for _, name in self.columns)


def cell_id(evaluation: SplitEvaluation, true: int, pred: int) -> str:
    """The id of the gallery of one confusion cell (indices only: class names are user input)."""
    return f"cell-{evaluation.anchor}-{true}-{pred}"


def heat_colour(share: float, diagonal: bool) -> tuple[str, str]:
    """Background (white to the dark end, by ``share``) and a text colour that stays readable on it."""
    end = DIAGONAL_RGB if diagonal else OFF_DIAGONAL_RGB
    share = min(max(share, 0.0), 1.0)
    rgb = tuple(round(255 + (c - 255) * share) for c in end)
    return f"rgb({rgb[0]},{rgb[1]},{rgb[2]})", "#fff" if share > 0.5 else "#111"


def shown_classes(matrix: list[list[int]], limit: int = COMPACT_ABOVE) -> list[int]:
    """All classes, or the ``limit`` ones with the most errors (row + column off-diagonal sums)."""
    n = len(matrix)
    if n <= limit:
        return list(range(n))
    columns = [sum(row[j] for row in matrix) for j in range(n)]
    errors = [sum(matrix[i]) + columns[i] - 2 * matrix[i][i] for i in range(n)]
    ranked = sorted(range(n), key=lambda i: (-errors[i], i))[:limit]
    return sorted(ranked)


def confusion_table(evaluation: SplitEvaluation, limit: int = COMPACT_ABOVE) -> ConfusionTable:
    """The table model of ``evaluation.matrix`` (rows = true class, columns = predicted class)."""
    matrix, names = evaluation.matrix, _names(evaluation)
    keep = shown_classes(matrix, limit)
    totals = [sum(row) for row in matrix]
    rows = [HeatRow(i, names[i], totals[i], [_cell(evaluation, i, j) for j in keep]) for i in keep]
    return ConfusionTable(
        columns=[(j, names[j]) for j in keep],
        rows=rows,
        pairs=confused_pairs(evaluation),
        total_classes=len(matrix),
        compact=len(keep) < len(matrix),
    )


def confused_pairs(evaluation: SplitEvaluation) -> list[ConfusedPair]:
    """Every off-diagonal cell with a count above zero, most frequent first."""
    matrix, names = evaluation.matrix, _names(evaluation)
    pairs = []
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        for j, count in enumerate(row):
            if i != j and count > 0:
                href = _href(evaluation, i, j)
                pairs.append(ConfusedPair(i, j, names[i], names[j], count, count / total, href))
    return sorted(pairs, key=lambda p: (-p.count, p.true, p.pred))


def _cell(evaluation: SplitEvaluation, i: int, j: int) -> HeatCell:
    count = evaluation.matrix[i][j]
    share = count / (sum(evaluation.matrix[i]) or 1)
    background, foreground = heat_colour(share, i == j)
    href = _href(evaluation, i, j) if i != j and count > 0 else None
    return HeatCell(i, j, count, share, background, foreground, href)


def _href(evaluation: SplitEvaluation, i: int, j: int) -> str | None:
    return f"#{cell_id(evaluation, i, j)}" if (i, j) in evaluation.cells else None


def _names(evaluation: SplitEvaluation) -> list[str]:
    n = len(evaluation.matrix)
    return [evaluation.classes[k] if k < len(evaluation.classes) else str(k) for k in range(n)]
