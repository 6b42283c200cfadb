"""Time is an input: anything that needs "now" takes a ``Clock``.

The daemon uses ``SystemClock``; the backfill and the demo use ``SimulatedClock`` set to an event's past, so the
same pipeline code sees the world as it was then. Tests never patch ``datetime``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to; thread-safe so a scheduler thread can read it.

    It refuses to go back unless built with ``monotonic=False``: the backfill replays events one by one and sets
    the clock to each event's past, earlier than where the previous event left it.
    """

    def __init__(self, start: datetime, *, monotonic: bool = True) -> None:
        self._now = ensure_utc(start, name="start")
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        when = ensure_utc(when, name="when")
        with self._lock:
            if self._monotonic and when < self._now:
                raise ValueError(f"a simulated clock cannot go back from {self._now} to {when}")
            self._now = when

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


def ensure_utc(value: datetime, *, name: str = "datetime") -> datetime:
    """Reject naive datetimes (their zone is a guess) and normalise aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)
