"""Public-inspection posting times as data, and filing times recovered from the FRDOC line."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.feeds.schedule import (
    REGULAR_POSTING_TIMES,
    SPECIAL_POSTING_TIMES,
    burst_seconds_per_posting_day,
    in_burst,
    is_posting_day,
    last_posting_at_or_before,
    next_posting_after,
    parse_frdoc_line,
    posting_times_on,
)
from tests.feeds.conftest import at


def test_slots_in_utc_across_daylight_saving() -> None:
    assert [t.strftime("%H:%M") for t in SPECIAL_POSTING_TIMES] == ["08:45", "11:15", "14:00", "16:15", "18:00"]
    assert [t.strftime("%H:%M") for t in REGULAR_POSTING_TIMES] == ["08:45"]
    summer = posting_times_on(date(2019, 10, 7))
    assert summer[0] == at("2019-10-07T12:45:00+00:00")
    assert summer[3] == at("2019-10-07T20:15:00+00:00")
    winter = posting_times_on(date(2020, 1, 6))
    assert winter[0] == at("2020-01-06T13:45:00+00:00")


def test_no_postings_on_weekends_and_federal_holidays() -> None:
    assert posting_times_on(date(2019, 10, 5)) == []  # Saturday
    assert not is_posting_day(date(2019, 10, 14))  # Columbus Day
    assert is_posting_day(date(2019, 10, 15))


def test_next_and_last_slot() -> None:
    friday_evening = at("2019-10-11T18:30:00-04:00")
    assert next_posting_after(friday_evening) == at("2019-10-15T08:45:00-04:00")  # skips the weekend and Monday
    assert last_posting_at_or_before(friday_evening) == at("2019-10-11T18:00:00-04:00")
    assert in_burst(at("2019-10-07T16:20:00-04:00"), minutes=10)
    assert not in_burst(at("2019-10-07T16:40:00-04:00"), minutes=10)


def test_a_burst_can_start_before_its_slot() -> None:
    assert not in_burst(at("2019-10-07T16:12:59-04:00"), minutes=10, lead_minutes=2)
    assert in_burst(at("2019-10-07T16:13:00-04:00"), minutes=10, lead_minutes=2)
    assert not in_burst(at("2019-10-05T08:44:00-04:00"), minutes=10, lead_minutes=2)  # Saturday: no slot ahead


def test_burst_seconds_of_a_posting_day() -> None:
    # five slots (08:45, 11:15, 14:00, 16:15, 18:00), 2 + 15 minutes each, apart from one another
    assert burst_seconds_per_posting_day(15, 2) == 5 * 17 * 60
    # three-hour windows overlap: one stretch from 08:45 to 21:00
    assert burst_seconds_per_posting_day(180, 0) == (12 * 60 + 15) * 60
    assert burst_seconds_per_posting_day(0, 0) == 0


@pytest.mark.parametrize(
    ("line", "number", "filed"),
    [
        ("[FR Doc. 2019-22210 Filed 10-7-19; 4:15 pm]", "2019-22210", "2019-10-07T16:15:00-04:00"),
        ("[FR Doc. 2016-08773 Filed 4-14-16; 8:45 am]", "2016-08773", "2016-04-14T08:45:00-04:00"),
        ("[FR Doc. 2020–12345 Filed 12-1-20; 11:15 a.m.]", "2020-12345", "2020-12-01T11:15:00-05:00"),
        ("[FR Doc. 2021-1 Filed 1-4-2021; 12:05 pm]", "2021-1", "2021-01-04T12:05:00-05:00"),
    ],
)
def test_frdoc_line(line: str, number: str, filed: str) -> None:
    assert parse_frdoc_line(line) == (number, at(filed))


def test_frdoc_line_absent_or_invalid() -> None:
    assert parse_frdoc_line("no filing line here") is None
    assert parse_frdoc_line("[FR Doc. 2019-1 Filed 13-45-19; 4:15 pm]") is None
