"""The AR/CAR chart: a real PNG, drawn without pyplot's global state, named so a retry can recognise it."""

from __future__ import annotations

import io
import itertools
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.image import imread

from alerts.chart import build_figure, chart_filename, has_chart, render_chart, spread
from monitor.models import AlertStage
from monitor.outbox import ChartSeries, PathPoint
from tests.fakes.alert_samples import follow_up


def test_renders_a_png_readable_at_slacks_preview_width() -> None:
    png = render_chart(follow_up(1, AlertStage.DAY5))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    height, width = imread(io.BytesIO(png)).shape[:2]
    assert width >= 900
    assert height >= 450


def test_axes_are_labelled_with_a_legend_and_the_cards_window() -> None:
    alert = follow_up(1, AlertStage.DAY1)  # car_window (0, +1); its CAAR path runs from day -5
    axes = build_figure(alert).axes[0]
    assert axes.get_xlabel().startswith("trading days relative to day 0")
    assert axes.get_ylabel() == "abnormal return, %"
    assert axes.get_legend() is not None
    assert axes.get_legend().get_texts()
    assert "[+0, +1]" in axes.get_title()
    drawn = [x for line in axes.get_lines() if len(line.get_xdata()) > 1 for x in line.get_xdata()]
    assert drawn
    assert min(drawn) == 0
    assert max(drawn) == 1


def test_end_labels_do_not_overlap() -> None:
    close = tuple(
        ChartSeries(
            label=f"S{i}",
            points=tuple(PathPoint(rel_day=d, ar=0.001, car=0.001 * (d + 1) + 1e-4 * i) for d in range(0, 6)),
        )
        for i in range(8)
    )
    alert = follow_up(1, AlertStage.DAY5).model_copy(update={"paths": close})
    figure = build_figure(alert)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [t.get_window_extent(renderer) for t in figure.axes[0].texts]
    assert len(boxes) == 8
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)


@given(st.lists(st.floats(-50, 50), max_size=12), st.floats(0.1, 5))
def test_spread_keeps_order_and_gap(values: list[float], gap: float) -> None:
    placed = spread(values, gap)
    order = sorted(range(len(values)), key=lambda i: values[i])
    for lower, upper in itertools.pairwise(order):
        assert placed[upper] - placed[lower] >= gap - 1e-9


def test_charts_draw_from_several_threads_at_once() -> None:
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(render_chart(follow_up(1, AlertStage.DAY1), dpi=40)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    assert all(png.startswith(b"\x89PNG") for png in results)


def test_an_alert_without_a_path_has_no_chart() -> None:
    empty = follow_up(1, AlertStage.DAY0).model_copy(update={"paths": ()})
    assert not has_chart(empty)
    with pytest.raises(ValueError, match="no AR/CAR path"):
        render_chart(empty)
    gaps = empty.model_copy(update={"paths": (ChartSeries(label="x", points=(PathPoint(rel_day=0),)),)})
    assert not has_chart(gaps)


def test_file_names_are_safe_and_stable() -> None:
    assert chart_filename("event:12:s:002415.SZ:day1") == "ar-car-event-12-s-002415.SZ-day1.png"
    assert chart_filename("event:1:g:all/x:day5") == "ar-car-event-1-g-all-x-day5.png"
