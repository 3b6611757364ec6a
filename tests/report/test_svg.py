"""Inline SVG charts: point positions, EMA values, best-epoch mark, a 1-epoch run, integer ticks, escaping."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from convlens.report.html.charts import comparison_charts, history_charts, smoothed
from convlens.report.html.svg import Series, epoch_ticks, line_chart, nice_ticks, tick_label
from convlens.report.html.views import ComparedRun, Curves, RunHeader


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def polyline_points(element: ET.Element) -> list[list[tuple[float, float]]]:
    return [
        [tuple(map(float, pair.split(","))) for pair in line.get("points").split()]
        for line in element.iter("polyline")
    ]


def test_ema_matches_the_books_formula():
    points = [(1.0, 1.0), (2.0, 0.0), (3.0, 0.0), (4.0, 1.0)]
    values = [y for _, y in smoothed(points, 0.8)]
    expected = [1.0, 0.8, 0.64, 0.8 * 0.64 + 0.2]
    assert values == pytest.approx(expected)


def test_ema_skips_missing_values_instead_of_propagating_them():
    assert smoothed([(1.0, 2.0), (2.0, None), (3.0, 0.0)], 0.8) == [(1.0, 2.0), (3.0, pytest.approx(1.6))]


def test_points_map_linearly_left_to_right_and_bottom_to_top():
    series = [Series("a", [(1, 0.0), (2, 0.5), (3, 1.0)], "#000")]
    svg = parse(line_chart(series, "t", "y", "c"))
    (points,) = polyline_points(svg)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert xs[0] < xs[1] < xs[2] and xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])
    assert ys[0] > ys[1] > ys[2] and ys[0] - ys[1] == pytest.approx(ys[1] - ys[2])  # higher value = higher up


def test_a_nan_breaks_the_line_into_two():
    series = [Series("a", [(1, 1.0), (2, 2.0), (3, math.nan), (4, 1.0), (5, 0.5)], "#000")]
    lines = polyline_points(parse(line_chart(series, "t", "y", "c")))
    assert [len(line) for line in lines] == [2, 2]


def history(val_losses: list[float]) -> Curves:
    return Curves(
        [
            {"epoch": e, "loss": 1.0 / e, "acc": 0.5 + 0.01 * e, "val_loss": v, "val_acc": 0.6}
            for e, v in enumerate(val_losses, start=1)
        ]
    )


def test_best_epoch_is_the_lowest_val_loss_and_is_marked_where_its_point_is():
    curves = history([0.9, 0.7, 0.4, 0.5, 0.6])
    assert curves.best_epoch == 3
    loss_chart, acc_chart = (parse(svg) for svg in history_charts(curves))
    for chart in (loss_chart, acc_chart):
        mark = chart.find(".//g[@class='mark']")
        assert "best epoch 3" in "".join(mark.itertext())
    mark_x = float(loss_chart.find(".//g[@class='mark']/line").get("x1"))
    validation = loss_chart.find(".//g[@data-label='Validation']")
    square_centres = [float(r.get("x")) + float(r.get("width")) / 2 for r in validation.iter("rect")]
    assert square_centres[2] == pytest.approx(mark_x, abs=0.15)


def test_a_one_epoch_run_is_visible_as_markers_with_an_integer_tick():
    charts = [parse(svg) for svg in history_charts(history([0.5]))]
    assert len(charts) == 2
    for chart in charts:
        assert len(list(chart.iter("circle"))) >= 1  # training marker (and its legend sample)
        assert len(list(chart.iter("rect"))) >= 1  # validation marker
        assert [t.text for t in chart.findall(".//text[@class='x-tick']")] == ["1"]


def test_without_validation_there_is_no_best_epoch_mark():
    curves = Curves([{"epoch": 1, "loss": 0.5, "acc": 0.7}, {"epoch": 2, "loss": 0.4, "acc": 0.8}])
    assert curves.best_epoch is None
    assert all(parse(svg).find(".//g[@class='mark']") is None for svg in history_charts(curves))


@pytest.mark.parametrize(("lo", "hi"), [(1, 1), (1, 7), (1, 30), (1, 100), (3, 517)])
def test_epoch_ticks_are_integers_and_few(lo, hi):
    ticks = epoch_ticks(lo, hi)
    assert ticks and all(t == int(t) and lo <= t <= hi for t in ticks)
    assert len(ticks) <= 10


def test_value_ticks_cover_the_range_with_round_labels():
    ticks = nice_ticks(0.123, 0.987)
    assert ticks[0] <= 0.123 and ticks[-1] >= 0.987
    assert [tick_label(t, ticks) for t in ticks] == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    assert tick_label(0.25, [0.0, 0.25, 0.5]) == "0.25"


def test_labels_are_escaped_text_that_can_be_selected():
    runs = [ComparedRun(RunHeader("<script>x</script>"), history([0.5, 0.4]))]  # short: not shortened
    for svg in comparison_charts(runs):
        assert "<script>" not in svg
        tree = parse(svg)
        assert any("<script>x</script>" in "".join(t.itertext()) for t in tree.iter("text"))
