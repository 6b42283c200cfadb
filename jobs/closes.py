"""Which exchanges have closed since the prices were last refreshed: decided from the calendars, not from cron.

A cron per exchange cannot follow half days, holidays or a replayed clock; asking the calendars can. The price job
runs every ``daemon.close_check_seconds`` and refreshes an exchange's securities once a session of it has closed
(plus ``prices.bar_margin_minutes``, after which the day's bar is final) since its last refresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from monitor.errors import MonitorError
from monitor.logs import get_logger
from monitor.prices.calendars import Calendars

log = get_logger(__name__)


def last_close_between(
    calendars: Calendars, name: str, after: datetime, until: datetime, *, margin_minutes: int
) -> datetime | None:
    """The latest ``close + margin`` of calendar ``name`` in ``(after, until]``, or None."""
    if until <= after:
        return None
    margin = timedelta(minutes=margin_minutes)
    first = (after - margin - timedelta(days=1)).date()
    latest: datetime | None = None
    for label in calendars.sessions(name, first, until.date()):
        final = calendars.session_close(name, label.date()) + margin
        if after < final <= until:
            latest = final
    return latest


class CloseWatch:
    """Remembers, per calendar, up to when its prices are refreshed; ``due`` names the calendars to refresh."""

    def __init__(self, calendars: Calendars, *, margin_minutes: int) -> None:
        self.calendars = calendars
        self.margin_minutes = margin_minutes
        self.done: dict[str, datetime] = {}

    def due(self, names: Iterable[str], now: datetime) -> list[str]:
        """Calendars never refreshed by this process, and those with a session final since their last refresh."""
        due: list[str] = []
        for name in sorted(set(names)):
            after = self.done.get(name)
            if after is None:
                due.append(name)
                continue
            try:
                closed = last_close_between(self.calendars, name, after, now, margin_minutes=self.margin_minutes)
            except MonitorError as exc:  # a calendar past its data: nothing can be final there, say so and wait
                log.warning("close_check_unavailable", calendar=name, error=str(exc))
                continue
            if closed is not None:
                due.append(name)
        return due

    def refreshed(self, name: str, now: datetime) -> None:
        self.done[name] = now
