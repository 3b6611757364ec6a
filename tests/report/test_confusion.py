"""The confusion table: heat colours, links only on confused cells, a readable table with 120 classes."""

from __future__ import annotations

import re

import numpy as np

from convlens.report.html.build_gallery import share_budget
from convlens.report.html.confusion import COMPACT_ABOVE, confusion_table, heat_colour
from convlens.report.html.render import environment
from convlens.report.html.views import ConfusionCell, SplitEvaluation


def evaluation(matrix: list[list[int]], classes: list[str] | None = None) -> SplitEvaluation:
    n = len(matrix)
    cells = {
        (i, j): ConfusionCell(i, j, matrix[i][j])
        for i in range(n)
        for j in range(n)
        if i != j and matrix[i][j]
    }
    return SplitEvaluation(
        "test", classes or [f"c{k}" for k in range(n)], matrix=matrix, cells=cells, has_predictions=True
    )


def render_confusion(ev: SplitEvaluation) -> str:
    env = environment()
    return env.get_template("_confusion.html").render(evaluation=ev) + env.get_template(
        "_gallery.html"
    ).render(evaluation=ev, overlay_cmap="jet")


def test_only_off_diagonal_cells_with_a_count_link_to_their_gallery():
    matrix = [[5, 0, 2], [1, 7, 0], [0, 3, 4]]
    html = render_confusion(evaluation(matrix))
    table = html[html.index('<table class="cm') : html.index("</table>")]
    linked = set(re.findall(r'href="#cell-test-(\d+)-(\d+)"', table))
    assert linked == {("0", "2"), ("1", "0"), ("2", "1")}
    for i, j in linked:
        assert f'id="cell-test-{i}-{j}"' in html  # the target exists


def test_without_predictions_nothing_links():
    ev = SplitEvaluation("test", ["a", "b"], matrix=[[3, 1], [2, 4]], has_predictions=False)
    html = render_confusion(ev)
    assert 'href="#cell' not in html and "predictions_test.json" in html


def test_heat_colours_are_row_shares_blue_on_the_diagonal_orange_off_it():
    assert heat_colour(0.0, True) == ("rgb(255,255,255)", "#111")
    background, text = heat_colour(1.0, True)
    assert background == "rgb(8,81,156)" and text == "#fff"
    assert heat_colour(1.0, False)[0] == "rgb(166,54,3)"
    table = confusion_table(evaluation([[9, 1], [50, 50]]))
    assert table.rows[0].cells[1].share == 0.1 and table.rows[1].cells[0].share == 0.5


def test_120_classes_render_a_compact_table_and_every_confused_pair_still_links():
    rng = np.random.default_rng(0)
    n = 120
    matrix = np.diag(rng.integers(3, 9, n))
    for _ in range(300):
        i = int(rng.integers(n))
        matrix[i, (i + 1 + int(rng.integers(3))) % n] += 1
    matrix[7, 90] += 40  # one class far more confused than the rest must be in the table
    ev = evaluation(matrix.tolist(), [f"n{k:08d} a long breed name {k}" for k in range(n)])
    table = confusion_table(ev)
    assert table.compact and len(table.rows) == COMPACT_ABOVE and len(table.columns) == COMPACT_ABOVE
    assert 7 in [r.index for r in table.rows] and 90 in [j for j, _ in table.columns]
    assert [r.index for r in table.rows] == sorted(r.index for r in table.rows)  # diagonal stays diagonal
    row = table.rows[0]
    assert row.elsewhere == matrix[row.index].sum() - sum(matrix[row.index, j] for j, _ in table.columns)
    html = render_confusion(ev)
    assert "120 classes: the table shows the 30 classes" in html
    pair_links = set(re.findall(r'href="#(cell-test-\d+-\d+)"', html))
    expected = {f"cell-test-{i}-{j}" for i in range(n) for j in range(n) if i != j and matrix[i, j]}
    assert pair_links == expected
    assert all(f'id="{target}"' in html for target in expected)


def test_small_class_counts_show_the_whole_matrix():
    table = confusion_table(evaluation(np.eye(COMPACT_ABOVE, dtype=int).tolist()))
    assert not table.compact and len(table.rows) == COMPACT_ABOVE


def test_the_image_budget_is_shared_evenly_then_given_to_the_fullest_cells():
    assert share_budget([30, 2, 30], per_cell=12, total=120) == [12, 2, 12]
    assert share_budget([30, 2, 30], per_cell=12, total=10) == [4, 2, 4]
    assert share_budget([30, 2, 30], per_cell=12, total=11) == [5, 2, 4]
    assert share_budget([5, 9, 1, 7], per_cell=12, total=2) == [0, 1, 0, 1]
    assert sum(share_budget([1] * 500, per_cell=12, total=120)) == 120
