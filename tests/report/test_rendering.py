"""The report's files from hand-built records: charts are PNGs, the HTML is self-contained and escaped, the CSV
holds every (event, security) at full precision."""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from monitor.report.charts import EventChart, cross_event_chart, security_panels
from monitor.report.csv_out import write_csv
from monitor.report.html_out import render
from monitor.report.summary import cross_event_summary
from tests.report.factory import event, study

PNG = b"\x89PNG\r\n\x1a\n"


def test_charts_are_pngs_and_panels_only_for_a_readable_number() -> None:
    drawer = EventChart()  # one figure for every event: the second drawing must not carry the first's lines
    few = event(1, [study(1, "AAA", halted_day0=True), study(1, "BBB", "supplier")])
    first = drawer.render(few)
    assert first is not None
    assert first.startswith(PNG)
    panels = security_panels(few)
    assert panels is not None
    assert panels.startswith(PNG)
    many = event(2, [study(2, f"S{i:02d}") for i in range(13)])
    crowded = drawer.render(many)
    assert crowded is not None
    assert crowded.startswith(PNG)
    assert drawer.render(few) == first  # redrawn from scratch: the same pixels as the first time
    assert security_panels(many) is None  # 13 panels would be unreadable; the overlay carries them
    assert cross_event_chart([few, many]).startswith(PNG)
    empty = event(3, [study(3, "ZZZ", status="insufficient_data")], groups={})
    assert drawer.render(empty) is None
    assert security_panels(empty) is None
    assert cross_event_chart([empty]) is None


def test_html_is_self_contained_and_escaped() -> None:
    hostile = event(1, [study(1, "AAA")], title="Rule <script>alert(1)</script> & more")
    html = render(
        [hostile],
        cross_event_summary([hostile]),
        {1: {"event": EventChart().render(hostile), "panels": None}},
        None,
        generated_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        parameters=[hostile.parameters],
    )
    assert "<script>" not in html
    assert "Rule &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "AAA Holdings &lt;Ltd&gt;" in html
    sources = re.findall(r'src="([^"]+)"', html)
    assert sources
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert "<link" not in html
    assert "<script" not in html
    for words in (
        "Methods and parameters",
        "Kolari–Pynnönen",
        "Stouffer",
        "different dates",
        "placebo dates per event",
    ):
        assert words in html
    assert "2019-10-07 16:15 ET (20:15 UTC)" in html


def test_parameters_that_differ_between_events_are_all_shown() -> None:
    a = event(1, [study(1, "AAA")])
    b = event(2, [study(2, "BBB")])
    b.parameters["estimation"] = 120
    html = render(
        [a, b], [], {}, None, generated_at=datetime(2026, 1, 1, tzinfo=UTC), parameters=[a.parameters, b.parameters]
    )
    assert "set 1" in html
    assert "set 2" in html
    assert "studied under different parameters" in html


def test_csv_has_every_pair_at_full_precision(tmp_path: Path) -> None:
    records = [event(1, [study(1, "AAA", car=-0.123456789012345), study(1, "BBB", halted_day0=True)])]
    assert write_csv(tmp_path / "r.csv", records) == 2
    with (tmp_path / "r.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["car_[0,1]"] == repr(-0.123456789012345)
    assert rows[0]["t_[-5,5]"] == "-2.0"
    assert (rows[1]["day0_halted"], rows[1]["ar_day0"]) == ("true", "")
    assert rows[1]["reaction_date"] == "2019-10-10"


def test_methods_state_the_alignment_halt_and_closure_conventions() -> None:
    from monitor.report.methods import methods_html

    html = methods_html([])
    assert "Calendar-date alignment" in html
    assert "pair estimation residuals by calendar date" in html
    assert "k counts only the sessions the security itself missed" in html  # §1.7
    assert "A session is <i>halted</i> only when" in html
    assert "n too small" in html
    assert "provisional" in html


def test_csv_cells_from_the_feed_never_start_a_formula(tmp_path: Path) -> None:
    """Issue 16 item 5: a title starting ``=``/``+``/``-``/``@``/tab/CR runs as a formula in a spreadsheet."""
    hostile = ('=HYPERLINK("http://evil")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx")
    records = [event(n, [study(n, "AAA")], title=title) for n, title in enumerate(hostile, start=1)]
    write_csv(tmp_path / "r.csv", records)
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["title"] for row in rows] == ["'" + title for title in hostile]
    assert rows[0]["car_[0,1]"].startswith("-")  # numbers stay numbers
    assert rows[0]["event_id"] == "1"


def test_html_links_only_to_the_web() -> None:
    """Issue 16 item 5: a ``javascript:`` URL from the feed is not a clickable link in report.html."""
    for url, clickable in (
        ("javascript:alert(document.cookie)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("https://www.federalregister.gov/d/2019-22210?a=1&b='x'", True),
    ):
        record = replace(event(1, [study(1, "AAA")]), html_url=url)
        html = render([record], [], {}, None, generated_at=datetime(2026, 1, 1, tzinfo=UTC), parameters=[])
        assert "javascript" not in html.lower().replace("\t", "")
        assert "data:text" not in html
        assert ("<a href='https://www.federalregister.gov/d/2019-22210?a=1&amp;b=&#x27;x&#x27;'" in html) is clickable
