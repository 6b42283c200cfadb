"""Charts of completed events are kept between reports and reused only while the event's study is unchanged; the
per-event figure skips the work its missing axis labels would need."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.axis
import pytest

from monitor.report import charts
from monitor.report.charts import ChartCache, EventChart, draw_all
from monitor.report.data import EventRecord
from tests.report.factory import event, study

PNG = b"\x89PNG\r\n\x1a\n"


def _counting_draws(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    drawn: list[list[int]] = []
    real = charts._draw

    def counted(events: Sequence[EventRecord], positions: range, panels: bool) -> dict[int, dict[str, bytes | None]]:
        drawn.append([events[i].event_id for i in positions])
        return real(events, positions, panels)

    monkeypatch.setattr(charts, "_draw", counted)
    return drawn


def test_completed_events_are_drawn_once_and_redrawn_when_their_study_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = _counting_draws(monkeypatch)
    cache = ChartCache(tmp_path / "charts")
    done = event(1, [study(1, "AAA"), study(1, "BBB", "supplier")])
    nothing = event(2, [study(2, "ZZZ", status="insufficient_data")], groups={})  # completed, nothing to draw
    running = event(3, [study(3, "CCC"), study(3, "DDD", status="partial")])  # may still change: never kept

    first = draw_all([done, nothing, running], panels=True, cache=cache)
    assert drawn == [[1, 2, 3]]
    assert first[1]["event"] is not None
    assert first[1]["event"].startswith(PNG)
    assert first[1]["panels"] is not None
    assert first[1]["panels"].startswith(PNG)
    assert first[2] == {"event": None, "panels": None}
    assert len(list((tmp_path / "charts").glob("*.png"))) == 2  # the event chart and the panels of event 1
    assert len(list((tmp_path / "charts").glob("*.none"))) == 2  # event 2 has neither

    second = draw_all([done, nothing, running], panels=True, cache=cache)
    assert drawn[1:] == [[3]]  # only the running event is drawn again
    assert second[1] == first[1]
    assert second[2] == first[2]

    corrected = event(1, [study(1, "AAA", car=-0.08), study(1, "BBB", "supplier")])  # a restated study
    third = draw_all([corrected], panels=True, cache=cache)
    assert drawn[2:] == [[1]]
    assert third[1]["event"] != first[1]["event"]

    assert draw_all([done], panels=False, cache=cache)[1]["event"] == first[1]["event"]  # the event chart alone
    assert drawn[3:] == []


def test_an_unwritable_cache_only_means_drawing_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = _counting_draws(monkeypatch)
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    cache = ChartCache(blocked / "charts")
    done = event(1, [study(1, "AAA")])
    assert draw_all([done], panels=False, cache=cache)[1]["event"] is not None
    assert draw_all([done], panels=False, cache=cache)[1]["event"] is not None
    assert drawn == [[1], [1]]


def test_the_event_figure_does_not_measure_tick_labels_for_axis_labels_it_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []
    real = matplotlib.axis.Axis._get_tick_boxes_siblings

    def counted(self: matplotlib.axis.Axis, renderer: object) -> object:
        calls.append(self)
        return real(self, renderer)

    monkeypatch.setattr(matplotlib.axis.Axis, "_get_tick_boxes_siblings", counted)
    png = EventChart().render(event(1, [study(1, "AAA"), study(1, "BBB", "supplier")]))
    assert png is not None
    assert png.startswith(PNG)
    assert calls == []


def test_a_large_report_is_drawn_by_workers_while_the_caller_goes_on(tmp_path: Path) -> None:
    """From ``PARALLEL_FROM`` events the drawing is forked off at once (the report writes its CSV meanwhile); the
    pixels are the ones this process would draw, and the completed events' charts are kept."""
    many = [event(i, [study(i, f"S{i:02d}", car=-0.01 * (i % 7))]) for i in range(1, charts.PARALLEL_FROM + 5)]
    cache = ChartCache(tmp_path / "charts")
    with charts.start_drawing(many, panels=False, workers=2, cache=cache) as drawing:
        assert drawing.pool is not None  # the workers are drawing before anyone asks for the result
        assert len(drawing.futures) == 2
        drawn = drawing.result()
    assert set(drawn) == {e.event_id for e in many}
    here = EventChart()
    for sample in (many[0], many[17], many[-1]):
        assert drawn[sample.event_id]["event"] == here.render(sample)
    assert len(list((tmp_path / "charts").glob("*.png"))) == len(many)
