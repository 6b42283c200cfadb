"""The public-inspection poll: faster right after each posting time, and landing on the next slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.triggers import MIN_STEP_SECONDS, PublicInspectionTrigger, public_inspection_step
from monitor.clock import ReplayClock, SimulatedClock
from monitor.config import PollSettings

POLL = PollSettings(public_inspection_seconds=60, public_inspection_burst_seconds=15, burst_minutes=10)


def et(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_bursts_after_a_posting_slot() -> None:
    assert public_inspection_step(et("2019-10-07T16:16:00-04:00"), POLL) == 15
    assert public_inspection_step(et("2019-10-07T16:24:59-04:00"), POLL) == 15


def test_routine_interval_between_slots() -> None:
    assert public_inspection_step(et("2019-10-07T16:40:00-04:00"), POLL) == 60


def test_the_poll_before_a_slot_lands_on_it() -> None:
    assert public_inspection_step(et("2019-10-07T16:14:20-04:00"), POLL) == 40  # 16:15 ET special filings


def test_weekends_have_no_bursts() -> None:
    assert public_inspection_step(et("2019-10-05T08:50:00-04:00"), POLL) == 60  # a Saturday


def test_a_burst_interval_longer_than_the_routine_one_never_slows_polling() -> None:
    poll = PollSettings(public_inspection_seconds=1, public_inspection_burst_seconds=15, burst_minutes=10)
    assert public_inspection_step(et("2019-10-07T16:16:00-04:00"), poll) == 1


def test_replay_speed_shrinks_the_wait_for_the_next_slot() -> None:
    """At 3600x, a slot 40 simulated seconds away is 1/90 of a wall second away (but never closer than the floor)."""
    at = et("2019-10-07T16:14:20-04:00")
    assert public_inspection_step(at, POLL, speed=3600) == MIN_STEP_SECONDS
    assert public_inspection_step(et("2019-10-07T15:15:00-04:00"), POLL, speed=360) == 10.0


def test_trigger_steps_from_the_previous_fire_time_and_resumes_after_a_stall() -> None:
    clock = SimulatedClock(et("2019-10-07T16:40:00-04:00"))
    trigger = PublicInspectionTrigger(POLL, clock)
    previous = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(previous, previous + timedelta(seconds=1)) == previous + timedelta(seconds=60)
    late = previous + timedelta(hours=3)  # the host was suspended: resume now, not 180 runs in a row
    assert trigger.get_next_fire_time(previous, late) == late
    assert "15s for 10 min" in str(trigger)


def test_trigger_reads_the_replay_clock() -> None:
    clock = ReplayClock(et("2019-10-07T16:16:00-04:00"), speed=1, anchor=0, wall=lambda: 0.0)
    trigger = PublicInspectionTrigger(POLL, clock)
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == now + timedelta(seconds=15)


@settings(max_examples=200)
@given(
    moment=st.datetimes(min_value=datetime(2018, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)),
    speed=st.sampled_from([1.0, 60.0, 3600.0, 21600.0]),
)
def test_step_is_always_between_the_floor_and_the_routine_interval(moment: datetime, speed: float) -> None:
    step = public_inspection_step(moment, POLL, speed=speed)
    assert MIN_STEP_SECONDS <= step <= POLL.public_inspection_seconds
