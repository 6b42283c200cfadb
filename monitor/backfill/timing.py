"""When a backfilled event's study can be run as the daemon would have run it last: its window closed everywhere.

Pure functions of the exchange calendars and each study's day 0. The backfill sets its clock to
``window_closed_at`` (the latest close, plus the bar margin, of the window's last session on every exchange the
event touches) and the study then sees exactly the bars final by then: nothing from its future.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.errors import MonitorError
from monitor.prices.calendars import Calendars
from monitor.prices.exchanges import listing


@dataclass(frozen=True)
class StudiedListing:
    symbol: str
    mic: str | None
    day0: date | None


def last_window_session(calendars: Calendars, calendar: str, day0: date, window_end: int) -> date:
    """The session ``window_end`` sessions after day 0 on ``calendar``."""
    horizon = day0 + timedelta(days=max(14, window_end * 3 + 14))
    sessions = calendars.sessions(calendar, day0, horizon)
    while len(sessions) <= window_end:  # a long closure (Golden Week): look further
        horizon += timedelta(days=30)
        sessions = calendars.sessions(calendar, day0, horizon)
    session: date = sessions[window_end].date()
    return session


def window_closed_at(
    calendars: Calendars, studied: Iterable[StudiedListing], *, window_end: int, margin_minutes: int
) -> datetime | None:
    """The first instant at which every study's event window has closed (None when no study has a day 0).

    A study whose calendar has no data that far (``CalendarOutOfRange``) is left out: it stays pending, as the
    pipeline leaves it, rather than holding the others back.
    """
    latest: datetime | None = None
    seen: set[tuple[str, date]] = set()
    for item in studied:
        if item.day0 is None:
            continue
        try:
            calendar = listing(item.symbol, mic=item.mic).calendar
        except MonitorError:
            continue
        if (calendar, item.day0) in seen:
            continue
        seen.add((calendar, item.day0))
        try:
            session = last_window_session(calendars, calendar, item.day0, window_end)
            close = calendars.session_close(calendar, session)
        except MonitorError:
            continue
        moment = close + timedelta(minutes=margin_minutes)
        latest = moment if latest is None or moment > latest else latest
    return latest
