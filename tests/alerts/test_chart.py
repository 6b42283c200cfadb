"""The AR/CAR chart: a real PNG, drawn without pyplot's global state, named so a retry can recognise it."""

from __future__ import annotations

import io
import threading

import pytest
from matplotlib.image import imread

from alerts.chart import chart_filename, has_chart, render_chart
from monitor.models import AlertStage
from monitor.outbox import ChartSeries, PathPoint
from tests.fakes.alert_samples import follow_up


def test_renders_a_png_of_the_expected_size() -> None:
    png = render_chart(follow_up(1, AlertStage.DAY5), dpi=50)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = imread(io.BytesIO(png))
    assert pixels.shape[:2] == (225, 400)  # 8 x 4.5 inches at 50 dpi


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
