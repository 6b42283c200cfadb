"""Announcement overrides: the shipped list of known cases and an operator's file on top."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.backfill import load_overrides, shipped_overrides
from monitor.config import Settings
from monitor.errors import InputError
from monitor.prices.calendars import calendars_from_settings


def test_the_shipped_cases_are_dated_before_the_next_open_everywhere() -> None:
    shipped = shipped_overrides()
    assert shipped["2019-22210"] == datetime(2019, 10, 7, 20, 15, tzinfo=UTC)  # Monday after the US close
    assert shipped["2019-10616"] == datetime(2019, 5, 15, 22, 0, tzinfo=UTC)  # Huawei: Commerce, Wednesday evening
    calendars = calendars_from_settings(Settings())
    # The exact minute of each is unverified, so each lies after every close of its day: day 0 is the next session
    # in New York, Shanghai and Hong Kong alike, whatever the minute.
    expected = {"2019-22210": date(2019, 10, 8), "2019-10616": date(2019, 5, 16), "2020-28031": date(2020, 12, 18)}
    for number, moment in shipped.items():
        for calendar in ("XNYS", "XSHG", "XHKG"):
            assert calendars.day0_on(calendar, moment) == expected[number], (number, calendar)


def test_an_operator_file_adds_and_wins(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "document_number,announced_at,note\n2019-22210,2019-10-07T12:00:00-04:00,Reuters scoop\n"
        "2024-00001,2024-01-02T09:00:00Z,\n",
        encoding="utf-8",
    )
    merged = load_overrides(path)
    assert merged["2019-22210"] == datetime(2019, 10, 7, 16, 0, tzinfo=UTC)
    assert merged["2019-10616"] == shipped_overrides()["2019-10616"]
    assert set(load_overrides(path, shipped=False)) == {"2019-22210", "2024-00001"}
    assert load_overrides(None, shipped=False) == {}


def test_a_bad_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("document_number,announced_at\n2019-22210,2019-10-07 16:15\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: announced_at '2019-10-07 16:15': add a UTC offset"):
        load_overrides(path)
