"""When an event's window has closed on every exchange it touches: hand-checked dates and a calendar property."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.backfill.timing import StudiedListing, last_window_session, window_closed_at
from monitor.config import Settings
from monitor.prices.calendars import calendars_from_settings

CALENDARS = calendars_from_settings(Settings())


def test_october_2019_closes_last_in_new_york() -> None:
    studied = [
        StudiedListing("002415.SZ", "XSHE", date(2019, 10, 8)),
        StudiedListing("AMBA", "XNAS", date(2019, 10, 8)),
        StudiedListing("0020.HK", "XHKG", date(2019, 10, 8)),
        StudiedListing("6697.T", "XTKS", None),  # no day 0 (a calendar past its data): left out, not waited for
    ]
    # +5 sessions: 10-09, 10-10, 10-11, 10-14, 10-15 in Shenzhen and New York; New York closes last (16:00 EDT).
    assert window_closed_at(CALENDARS, studied, window_end=5, margin_minutes=30) == datetime(
        2019, 10, 15, 20, 30, tzinfo=UTC
    )
    assert window_closed_at(CALENDARS, studied[:1], window_end=5, margin_minutes=0) == datetime(
        2019, 10, 15, 7, 0, tzinfo=UTC
    )
    assert window_closed_at(CALENDARS, [], window_end=5, margin_minutes=30) is None


def test_golden_week_is_skipped() -> None:
    # Day 0 on the last session before the 2019 National Day holiday: +1 is 10-08, a week later.
    assert last_window_session(CALENDARS, "XSHG", date(2019, 9, 30), 1) == date(2019, 10, 8)


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=date(2005, 1, 3), max_value=date(2024, 6, 28)), st.integers(min_value=0, max_value=20))
def test_the_window_ends_window_end_sessions_after_day0(start: date, window_end: int) -> None:
    sessions = CALENDARS.sessions("XNYS", start, start + timedelta(days=10))
    day0 = sessions[0].date()
    last = last_window_session(CALENDARS, "XNYS", day0, window_end)
    assert len(CALENDARS.sessions("XNYS", day0, last)) == window_end + 1
    closed = window_closed_at(CALENDARS, [StudiedListing("AMBA", None, day0)], window_end=window_end, margin_minutes=30)
    assert closed == CALENDARS.session_close("XNYS", last) + timedelta(minutes=30)
