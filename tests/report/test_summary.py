"""The cross-event table built from event records: groups, windows, clusters and the single-relation fallback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.report.summary import cross_event_summary, merged_clusters, report_windows
from tests.report.factory import event, study


def test_groups_and_windows_in_reading_order() -> None:
    first = event(1, [study(1, "AAA"), study(1, "BBB"), study(1, "CCC", "supplier", car=0.02, t=0.5)])
    second = event(2, [study(2, "DDD", day0=first.studies[0].day0.replace(year=2020))])
    rows = cross_event_summary([first, second])
    assert report_windows([first]) == ["[0,0]", "[0,1]", "[-1,1]", "[0,3]", "[0,5]", "[-5,5]"]
    assert [row.group for row in rows][:6] == ["all"] * 6
    assert {row.group for row in rows} == {"all", "direct", "supplier"}
    everything = next(row for row in rows if row.group == "all" and row.window == "[-5,5]")
    assert (everything.cell.events, everything.cell.clusters, everything.cell.n) == (2, 2, 4)
    # The supplier group of event 1 has no stored statistics of its own (no per-relation row): no r̄, no rank Z.
    supplier = next(row for row in rows if row.group == "supplier" and row.window == "[0,1]")
    assert supplier.cell.rank_z.value is None
    # Placebo p-values exist for the event window only.
    assert everything.cell.placebo_events == 2
    assert next(r for r in rows if r.group == "all" and r.window == "[0,1]").cell.placebo_events == 0


def test_an_event_with_one_relation_uses_its_all_row_for_that_relation() -> None:
    only_direct = event(1, [study(1, "AAA"), study(1, "BBB")])
    rows = cross_event_summary([only_direct])
    direct = next(row for row in rows if row.group == "direct" and row.window == "[0,1]")
    assert direct.cell.rank_z.value is not None


def test_overlapping_windows_share_a_cluster() -> None:
    a = event(1, [study(1, "AAA")])
    b = event(2, [study(2, "BBB")], announced=datetime(2019, 10, 9, 14, tzinfo=UTC))
    c = event(3, [study(3, "CCC", day0=a.studies[0].day0.replace(year=2020))])
    assert merged_clusters([a, b, c]) == [["2019-00001", "2019-00002"]]
    cell = next(row for row in cross_event_summary([a, b, c]) if row.group == "all" and row.window == "[0,0]").cell
    assert (cell.events, cell.clusters) == (3, 2)
    assert cell.mean_car == pytest.approx(-0.05)


def test_unusable_studies_are_left_out() -> None:
    rows = cross_event_summary([event(1, [study(1, "AAA"), study(1, "ZZZ", status="insufficient_data")])])
    assert next(row for row in rows if row.window == "[0,0]").cell.n == 1
