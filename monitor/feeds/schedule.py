"""When the Office of the Federal Register posts public-inspection filings, as data the daemon can poll around.

Regular filings post at 08:45 ET; special filings at 08:45, 11:15, 14:00, 16:15 and 18:00 ET, on federal business
days (observed on live traffic, Sep–Oct 2026). A rule filed at 16:15 is public before the next market open, so
polling fast right after each slot is what makes the monitor early. Also here: recovering a filing's time from
the ``[FR Doc. … Filed 10-7-19; 4:15 pm]`` line of the rule text.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from monitor.clock import NEW_YORK, ensure_utc

REGULAR_POSTING_TIMES: tuple[time, ...] = (time(8, 45),)
SPECIAL_POSTING_TIMES: tuple[time, ...] = (time(8, 45), time(11, 15), time(14, 0), time(16, 15), time(18, 0))
POSTING_TIMES: tuple[time, ...] = tuple(sorted(set(REGULAR_POSTING_TIMES) | set(SPECIAL_POSTING_TIMES)))


@lru_cache(maxsize=64)
def _federal_holidays(year: int) -> frozenset[date]:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    days = USFederalHolidayCalendar().holidays(start=f"{year}-01-01", end=f"{year}-12-31")
    return frozenset(day.date() for day in days)


def is_posting_day(day: date) -> bool:
    """Federal business days: public inspection does not post on weekends or federal holidays."""
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def posting_times_on(day: date) -> list[datetime]:
    """Every posting slot of ``day`` (Eastern calendar day) as UTC instants; empty on non-posting days."""
    if not is_posting_day(day):
        return []
    return [datetime.combine(day, slot, tzinfo=NEW_YORK).astimezone(UTC) for slot in POSTING_TIMES]


def next_posting_after(now: datetime) -> datetime:
    """The first posting slot strictly after ``now`` (searches up to three weeks ahead)."""
    now = ensure_utc(now, name="now")
    day = now.astimezone(NEW_YORK).date()
    for offset in range(22):
        for slot in posting_times_on(day + timedelta(days=offset)):
            if slot > now:
                return slot
    raise ValueError(f"no public-inspection posting within three weeks of {now.isoformat()}")


def last_posting_at_or_before(now: datetime) -> datetime | None:
    """The latest posting slot at or before ``now`` within the past three weeks."""
    now = ensure_utc(now, name="now")
    day = now.astimezone(NEW_YORK).date()
    for offset in range(22):
        for slot in reversed(posting_times_on(day - timedelta(days=offset))):
            if slot <= now:
                return slot
    return None


def in_burst(now: datetime, minutes: int, lead_minutes: int = 0) -> bool:
    """True from ``lead_minutes`` before a posting slot to ``minutes`` after it: when the daemon should poll public
    inspection fastest."""
    last = last_posting_at_or_before(now)
    if last is not None and ensure_utc(now) - last < timedelta(minutes=minutes):
        return True
    if lead_minutes <= 0:
        return False
    try:
        upcoming = next_posting_after(now)
    except ValueError:
        return False
    return upcoming - ensure_utc(now) <= timedelta(minutes=lead_minutes)


def burst_seconds_per_posting_day(minutes: int, lead_minutes: int) -> float:
    """Seconds of a posting day inside a burst window (``lead_minutes`` before to ``minutes`` after each slot),
    overlapping windows counted once: what the request cost of a business day is made of."""
    windows = sorted(
        (slot.hour * 60 + slot.minute - lead_minutes, slot.hour * 60 + slot.minute + minutes) for slot in POSTING_TIMES
    )
    total = 0
    reached = -(10**6)
    for start, stop in windows:
        start = max(start, reached, 0)
        stop = min(stop, 24 * 60)
        if stop > start:
            total += stop - start
            reached = stop
    return total * 60.0


_FRDOC = re.compile(
    r"FR\s+Doc\.?\s+(?P<number>[\w\u2013-]+?)\s+Filed\s+(?P<m>\d{1,2})[-/](?P<d>\d{1,2})[-/](?P<y>\d{2,4})\s*;\s*"
    r"(?P<h>\d{1,2}):(?P<min>\d{2})\s*(?P<ampm>[ap])\.?\s*m\.?",
    re.IGNORECASE,
)


def parse_frdoc_line(text: str) -> tuple[str, datetime] | None:
    """``[FR Doc. 2019-22210 Filed 10-7-19; 4:15 pm]`` → ("2019-22210", 2019-10-07 20:15 UTC)."""
    match = _FRDOC.search(text)
    if match is None:
        return None
    year = int(match["y"])
    year += 2000 if year < 100 else 0
    hour = int(match["h"]) % 12 + (12 if match["ampm"].lower() == "p" else 0)
    try:
        local = datetime(year, int(match["m"]), int(match["d"]), hour, int(match["min"]), tzinfo=NEW_YORK)
    except ValueError:
        return None
    number = match["number"].replace("\u2013", "-")
    return number, local.astimezone(UTC)
