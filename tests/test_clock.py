from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.clock import (
    NEW_YORK,
    ReplayClock,
    SimulatedClock,
    SystemClock,
    clock_speed,
    ensure_utc,
    parse_instant,
    wall_seconds,
)
from monitor.errors import InputError

START = datetime(2019, 10, 7, 20, 16, tzinfo=UTC)


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC


def test_simulated_clock_moves_forward_only() -> None:
    clock = SimulatedClock(datetime(2019, 10, 7, 17, 0, tzinfo=NEW_YORK))
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-10-07T20:30:00Z", datetime(2019, 10, 7, 20, 30, tzinfo=UTC)),
        (" 2019-10-07T20:30:00z ", datetime(2019, 10, 7, 20, 30, tzinfo=UTC)),
        ("2019-10-07T16:15:00-04:00", datetime(2019, 10, 7, 20, 15, tzinfo=UTC)),  # a filing time as the FR gives it
        ("2019-10-08T04:30:00+08:00", datetime(2019, 10, 7, 20, 30, tzinfo=UTC)),
    ],
)
def test_an_instant_with_an_offset_is_read_as_utc(text: str, expected: datetime) -> None:
    moment = parse_instant(text, "--at")
    assert moment == expected
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "--at 'yesterday': expected ISO 8601 such as 2019-10-07T20:30:00Z"),
        ("2019-10-07T20:30:00", "--at '2019-10-07T20:30:00': add a UTC offset"),
        ("2019-10-07", "--at '2019-10-07': add a UTC offset"),
    ],
)
def test_a_malformed_or_naive_instant_is_refused_naming_the_input(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_instant(text, "--at")


@given(st.datetimes(), st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_parse_instant_reads_back_any_isoformat(local: datetime, offset_minutes: int) -> None:
    moment = local.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assert parse_instant(moment.isoformat(), "value") == moment


def test_new_york_observes_daylight_saving() -> None:
    assert datetime(2019, 10, 7, 12, tzinfo=NEW_YORK).utcoffset() == timedelta(hours=-4)
    assert datetime(2019, 12, 9, 12, tzinfo=NEW_YORK).utcoffset() == timedelta(hours=-5)


# --- replay time: a simulated clock anchored on the wall clock, shared by processes given the same anchor ---------


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


def test_an_anchor_file_holds_time_at_start_until_it_is_written(tmp_path: Path) -> None:
    """End-to-end tests release simulated time when the card is out, however long the daemons took to start."""
    wall = Wall(1000.0)
    path = tmp_path / "anchor"
    clock = ReplayClock(START, speed=3600, anchor_file=path, wall=wall)
    wall.now = 5000.0
    assert clock.now() == START
    path.write_text("", encoding="ascii")  # created, not yet written
    wall.now = 5001.0
    assert clock.now() == START
    path.write_text("5002.5\n", encoding="ascii")
    wall.now = 5002.0  # read, but the anchor is still ahead
    assert clock.now() == START
    wall.now = 5004.5
    assert clock.now() == START + timedelta(hours=2)
    path.unlink()  # once read, the anchor stays
    wall.now = 5005.5
    assert clock.now() == START + timedelta(hours=3)


def test_an_anchor_file_is_looked_for_at_most_every_50_ms(tmp_path: Path) -> None:
    wall = Wall(0.0)
    path = tmp_path / "anchor"
    clock = ReplayClock(START, speed=60, anchor_file=path, wall=wall)
    assert clock.now() == START
    path.write_text("0", encoding="ascii")
    wall.now = 0.04
    assert clock.now() == START  # not looked at again yet
    wall.now = 0.06
    assert clock.now() == START + timedelta(seconds=0.06 * 60)


def test_a_bad_anchor_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "anchor"
    path.write_text("soon", encoding="ascii")
    with pytest.raises(InputError, match=r"anchor file .*anchor.*'soon'"):
        ReplayClock(START, speed=60, anchor_file=path).now()
    with pytest.raises(ValueError, match="not both"):
        ReplayClock(START, speed=60, anchor=1.0, anchor_file=path)


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
