"""Which exchanges have closed since the last price refresh, straight from the calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jobs.closes import CloseWatch, last_close_between
from monitor.prices.calendars import Calendars


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def calendars() -> Calendars:
    return Calendars(start=date(2019, 1, 1), today=date(2019, 10, 1))


def test_new_york_closes_at_20_utc_in_october_plus_the_bar_margin(calendars: Calendars) -> None:
    after, until = utc("2019-10-08T12:00:00"), utc("2019-10-08T20:29:00")
    assert last_close_between(calendars, "XNYS", after, until, margin_minutes=30) is None
    closed = last_close_between(calendars, "XNYS", after, utc("2019-10-08T20:30:00"), margin_minutes=30)
    assert closed == utc("2019-10-08T20:30:00")


def test_golden_week_has_no_shanghai_close(calendars: Calendars) -> None:
    """China was closed 2019-10-01 to 10-07: the first close after the holiday is 10-08 07:00 UTC."""
    after = utc("2019-09-30T08:00:00")
    assert last_close_between(calendars, "XSHG", after, utc("2019-10-08T06:59:00"), margin_minutes=0) is None
    assert last_close_between(calendars, "XSHG", after, utc("2019-10-08T07:00:00"), margin_minutes=0) == utc(
        "2019-10-08T07:00:00"
    )


def test_the_latest_of_several_closes_is_reported(calendars: Calendars) -> None:
    closed = last_close_between(
        calendars, "XNYS", utc("2019-10-07T00:00:00"), utc("2019-10-10T00:00:00"), margin_minutes=30
    )
    assert closed == utc("2019-10-09T20:30:00")
    assert last_close_between(calendars, "XNYS", utc("2019-10-10"), utc("2019-10-09"), margin_minutes=0) is None


def test_close_watch_refreshes_each_exchange_once_per_close(calendars: Calendars) -> None:
    watch = CloseWatch(calendars, margin_minutes=30)
    morning = utc("2019-10-08T12:00:00")
    assert watch.due({"XNYS", "XSHG"}, morning) == ["XNYS", "XSHG"]  # never refreshed by this process
    watch.refreshed("XNYS", morning)
    watch.refreshed("XSHG", morning)
    assert watch.due({"XNYS", "XSHG"}, morning + timedelta(hours=8)) == []
    evening = utc("2019-10-08T20:31:00")
    assert watch.due({"XNYS", "XSHG"}, evening) == ["XNYS"]
    watch.refreshed("XNYS", evening)
    assert watch.due({"XNYS", "XSHG"}, utc("2019-10-09T07:31:00")) == ["XSHG"]


def test_a_calendar_past_its_data_is_skipped_not_fatal() -> None:
    calendars = Calendars(start=date(2026, 1, 1), today=date(2026, 11, 21))
    watch = CloseWatch(calendars, margin_minutes=30)
    watch.refreshed("XSHG", utc("2027-12-30T12:00:00"))
    assert watch.due({"XSHG"}, utc("2028-01-06T12:00:00")) == []  # past even the provisional 2027 data
