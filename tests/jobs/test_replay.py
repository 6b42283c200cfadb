"""Replay time: a simulated clock anchored on the wall clock, shared by processes given the same anchor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.replay import ReplayClock, clock_speed, wall_seconds
from monitor.clock import SimulatedClock, SystemClock

START = datetime(2019, 10, 7, 20, 16, tzinfo=UTC)


class Wall:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_time_stands_at_start_until_the_anchor_then_runs_at_speed() -> None:
    wall = Wall(1000.0)
    clock = ReplayClock(START, speed=3600, anchor=1005.0, wall=wall)
    assert clock.now() == START
    wall.now = 1004.9
    assert clock.now() == START
    wall.now = 1007.0
    assert clock.now() == START + timedelta(hours=2)


def test_two_clocks_with_one_anchor_share_a_timeline() -> None:
    """A replica, or the daemon restarted after a crash, continues where the other is, not from the start."""
    wall = Wall(2000.0)
    first = ReplayClock(START, speed=60, anchor=2000.0, wall=wall)
    wall.now = 2030.0
    restarted = ReplayClock(START, speed=60, anchor=2000.0, wall=wall)
    assert restarted.now() == first.now() == START + timedelta(minutes=30)


def test_default_anchor_is_now() -> None:
    wall = Wall(50.0)
    clock = ReplayClock(START, speed=10, wall=wall)
    wall.now = 51.0
    assert clock.now() == START + timedelta(seconds=10)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ReplayClock(START, speed=0)
    with pytest.raises(ValueError, match="naive"):
        ReplayClock(datetime(2019, 10, 7, 20, 16), speed=1)


def test_speed_of_each_clock() -> None:
    assert clock_speed(SystemClock()) == 1.0
    assert clock_speed(SimulatedClock(START)) == 1.0
    assert clock_speed(ReplayClock(START, speed=3600)) == 3600.0
    assert wall_seconds(ReplayClock(START, speed=3600), timedelta(hours=2)) == 2.0


@given(
    speed=st.floats(min_value=0.01, max_value=1e5),
    before=st.floats(min_value=0, max_value=1e6),
    after=st.floats(min_value=0, max_value=1e6),
)
def test_replay_time_never_runs_backwards(speed: float, before: float, after: float) -> None:
    wall = Wall(0.0)
    clock = ReplayClock(START, speed=speed, anchor=500.0, wall=wall)
    wall.now = min(before, after)
    earlier = clock.now()
    wall.now = max(before, after)
    assert clock.now() >= earlier >= START
