from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.clock import SimulatedClock, SystemClock, ensure_utc


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC


def test_simulated_clock_moves_forward_only() -> None:
    clock = SimulatedClock(datetime(2019, 10, 7, 17, 0, tzinfo=ZoneInfo("America/New_York")))
    assert clock.now() == datetime(2019, 10, 7, 21, 0, tzinfo=UTC)
    assert clock.advance(timedelta(hours=1)) == datetime(2019, 10, 7, 22, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(datetime(2019, 10, 7, tzinfo=UTC))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        ensure_utc(datetime(2019, 10, 7), name="announced_at")


def test_a_replaying_clock_may_go_back() -> None:
    """The backfill sets the clock to each event's past, earlier than the previous event's window close."""
    clock = SimulatedClock(datetime(2019, 10, 23, tzinfo=UTC), monotonic=False)
    clock.set(datetime(2019, 5, 15, 20, 0, tzinfo=UTC))
    assert clock.now() == datetime(2019, 5, 15, 20, 0, tzinfo=UTC)
