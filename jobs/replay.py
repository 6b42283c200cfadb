"""Replay time: run the live daemon against a simulated clock, for end-to-end tests and rehearsals.

``monitor run --replay-start 2019-10-07T20:16:00Z --replay-speed 3600`` makes every job see 2019: the pollers
stamp what they see with simulated time, the pipeline dates events and decides which sessions have closed by it,
and the outbox schedules by it, while the scheduler's intervals, HTTP timeouts and leases stay on the wall clock
(they coordinate real processes). At speed 3600 one real second is one simulated hour, so a rule filed after the
New York close and its day-0, day-1 … follow-ups play out in a minute.

The clock is anchored on the wall clock: ``now = start + (time() - anchor) × speed``. Two processes given the same
start, speed and anchor (two replicas, or a daemon restarted after a crash) share one simulated timeline. Before
the anchor the clock stands at ``start``, so a test can start the daemon, let it settle, and have time begin to
run at a known instant.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from monitor.clock import Clock, ensure_utc


class ReplayClock:
    """Simulated time running ``speed`` times faster than the wall clock from ``anchor`` (Unix seconds) on."""

    def __init__(
        self,
        start: datetime,
        *,
        speed: float = 1.0,
        anchor: float | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, got {speed}")
        self.start = ensure_utc(start, name="replay start")
        self.speed = float(speed)
        self._wall = wall
        self.anchor = wall() if anchor is None else float(anchor)

    def now(self) -> datetime:
        elapsed = max(0.0, self._wall() - self.anchor)
        return self.start + timedelta(seconds=elapsed * self.speed)

    def __repr__(self) -> str:
        return f"ReplayClock(start={self.start.isoformat()}, speed={self.speed:g}, anchor={self.anchor:.3f})"


def clock_speed(clock: Clock) -> float:
    """Simulated seconds per wall-clock second: 1 for the system clock, ``speed`` for a replay."""
    speed = getattr(clock, "speed", 1.0)
    return float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0


def wall_seconds(clock: Clock, simulated: timedelta) -> float:
    """How long a span of the clock's time takes on the wall clock (what a scheduler interval must be)."""
    return simulated.total_seconds() / clock_speed(clock)
