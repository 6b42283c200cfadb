"""Time is an input: anything that needs "now" takes a ``Clock``.

The daemon uses ``SystemClock`` (or a ``ReplayClock`` for rehearsals and end-to-end tests); the backfill and the
demo use ``SimulatedClock`` set to an event's past, so the same pipeline code sees the world as it was then. Tests
never patch ``datetime``. Also the one place for New York time (``NEW_YORK``: Federal Register postings, US
sessions) and for reading an ISO 8601 instant a user typed (``parse_instant``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from monitor.errors import InputError

# Washington's time: the Federal Register posts and times its filings in it, and US exchanges trade in it.
NEW_YORK = ZoneInfo("America/New_York")


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


def parse_instant(text: str, what: str) -> datetime:
    """An ISO 8601 instant with a UTC offset (``2019-10-07T20:30:00Z``), as aware UTC.

    ``what`` names the input in the error (``--at``, ``line 3: announced_at``) so the user knows which to fix. A
    time without an offset is refused rather than guessed: its zone could be New York's, Beijing's or UTC.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(f"{what} {text!r}: expected ISO 8601 such as 2019-10-07T20:30:00Z") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"{what} {text!r}: add a UTC offset (…Z or +08:00); a naive time is ambiguous")
    return moment.astimezone(UTC)


class ReplayClock:
    """Simulated time running ``speed`` times faster than the wall clock from ``anchor`` (Unix seconds) on.

    ``monitor run --replay-start 2019-10-07T20:16:00Z --replay-speed 3600`` makes every job see 2019: the pollers
    stamp what they see with simulated time, the pipeline dates events and decides which sessions have closed by
    it, and the outbox schedules by it, while the scheduler's intervals, HTTP timeouts and leases stay on the wall
    clock (they coordinate real processes). At speed 3600 one real second is one simulated hour.

    ``now = start + (time() - anchor) × speed``: two processes given the same start, speed and anchor (two
    replicas, or a daemon restarted after a crash) share one simulated timeline. Before the anchor the clock stands
    at ``start``, so a test can start the daemon, let it settle, and have time begin to run at a known instant.

    ``anchor_file`` defers the anchor to an event rather than an instant: the clock stands at ``start`` until that
    file exists and then reads the anchor from it. End-to-end tests start the daemons, file a rule, and write the
    file only once the card is out, so how long a loaded machine takes to start a process never moves the
    simulated timeline (at 43,200x, a second late is twelve simulated hours late).
    """

    _ANCHOR_FILE_POLL_SECONDS = 0.05

    def __init__(
        self,
        start: datetime,
        *,
        speed: float = 1.0,
        anchor: float | None = None,
        anchor_file: Path | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, got {speed}")
        if anchor is not None and anchor_file is not None:
            raise ValueError("give the replay an anchor or an anchor file, not both")
        self.start = ensure_utc(start, name="replay start")
        self.speed = float(speed)
        self._wall = wall
        self._anchor_file = anchor_file
        self._next_look = 0.0
        self.anchor: float | None = None if anchor_file is not None else (wall() if anchor is None else float(anchor))

    def now(self) -> datetime:
        wall = self._wall()
        anchor = self.anchor if self.anchor is not None else self._read_anchor(wall)
        if anchor is None:
            return self.start
        elapsed = max(0.0, wall - anchor)
        return self.start + timedelta(seconds=elapsed * self.speed)

    def _read_anchor(self, wall: float) -> float | None:
        """The anchor once its file exists (looked for at most every 50 ms: ``now`` is called on hot paths)."""
        if self._anchor_file is None or wall < self._next_look:
            return None
        self._next_look = wall + self._ANCHOR_FILE_POLL_SECONDS
        try:
            text = self._anchor_file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"replay anchor file {self._anchor_file}: {exc.strerror or exc}") from None
        if not text:  # created but not yet written: writers should rename into place, but a reader must not fail
            return None
        try:
            anchor = float(text)
        except ValueError:
            raise InputError(f"replay anchor file {self._anchor_file}: expected Unix seconds, got {text!r}") from None
        self.anchor = anchor
        return anchor

    def __repr__(self) -> str:
        anchor = f"{self.anchor:.3f}" if self.anchor is not None else f"file {self._anchor_file}"
        return f"ReplayClock(start={self.start.isoformat()}, speed={self.speed:g}, anchor={anchor})"


def clock_speed(clock: Clock) -> float:
    """Simulated seconds per wall-clock second: 1 for the system clock, ``speed`` for a replay."""
    speed = getattr(clock, "speed", 1.0)
    return float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0


def wall_seconds(clock: Clock, simulated: timedelta) -> float:
    """How long a span of the clock's time takes on the wall clock (what a scheduler interval must be)."""
    return simulated.total_seconds() / clock_speed(clock)
