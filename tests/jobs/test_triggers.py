"""The public-inspection poll: faster right after each posting time, and landing on the next slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.triggers import MIN_STEP_SECONDS, PublicInspectionTrigger, public_inspection_cost, public_inspection_step
from monitor.clock import ReplayClock, SimulatedClock
from monitor.config import PollSettings
from monitor.feeds.schedule import POSTING_TIMES

POLL = PollSettings(
    public_inspection_seconds=60, public_inspection_burst_seconds=15, burst_minutes=10, burst_lead_minutes=0
)
LEAD = PollSettings(
    public_inspection_seconds=60, public_inspection_burst_seconds=15, burst_minutes=10, burst_lead_minutes=2
)


def et(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_bursts_after_a_posting_slot() -> None:
    assert public_inspection_step(et("2019-10-07T16:16:00-04:00"), POLL) == 15
    assert public_inspection_step(et("2019-10-07T16:24:59-04:00"), POLL) == 15


def test_routine_interval_between_slots() -> None:
    assert public_inspection_step(et("2019-10-07T16:40:00-04:00"), POLL) == 60


def test_the_poll_before_a_slot_lands_on_it() -> None:
    assert public_inspection_step(et("2019-10-07T16:14:20-04:00"), POLL) == 40  # 16:15 ET special filings


def test_a_burst_with_a_lead_starts_before_the_slot_and_the_poll_before_it_lands_on_its_start() -> None:
    assert public_inspection_step(et("2019-10-07T16:13:30-04:00"), LEAD) == 15
    assert public_inspection_step(et("2019-10-07T16:12:20-04:00"), LEAD) == 40  # lands on 16:13, the burst's start
    assert public_inspection_step(et("2019-10-07T16:24:59-04:00"), LEAD) == 15
    assert public_inspection_step(et("2019-10-07T16:25:00-04:00"), LEAD) == 60


def test_weekends_have_no_bursts() -> None:
    assert public_inspection_step(et("2019-10-05T08:50:00-04:00"), POLL) == 60  # a Saturday


def test_a_burst_interval_longer_than_the_routine_one_never_slows_polling() -> None:
    poll = PollSettings(
        public_inspection_seconds=1, public_inspection_burst_seconds=15, burst_minutes=10, burst_lead_minutes=0
    )
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
    assert "15s from 0 min before to 10 min after" in str(trigger)


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


def polls_through(day_start: datetime, poll: PollSettings) -> int:
    """The trigger's own steps through 24 hours of a simulated clock, counted."""
    now, end, count = day_start, day_start + timedelta(days=1), 0
    while now < end:
        now += timedelta(seconds=public_inspection_step(now, poll))
        count += 1
    return count


def test_the_stated_cost_is_what_the_trigger_does_and_the_defaults_are_polite() -> None:
    poll = PollSettings()  # the defaults: every 10 s, every 2 s from 2 min before to 15 min after each slot
    cost = public_inspection_cost(poll)
    business_day = polls_through(et("2019-10-08T00:00:00-04:00"), poll)  # a Tuesday
    saturday = polls_through(et("2019-10-05T00:00:00-04:00"), poll)
    assert abs(cost.per_posting_day - business_day) <= len(POSTING_TIMES)  # the landing polls are left out
    assert cost.per_other_day == saturday == 8640
    # 85 burst minutes at 2 s, the rest at 10 s (from midnight every burst start is on a 10 s step: no landing poll)
    assert business_day == 8640 - 5 * 17 * 6 + 5 * 17 * 30
    assert cost.polite
    assert cost.peak_per_second == 0.5
    assert cost.per_hour == 360
    assert cost.per_burst_hour == 1800
    shown = cost.describe(poll)
    assert "every 10 s (360 requests/hour)" in shown
    assert "≈ 10,680 requests a business day" in shown
    assert "FASTER" not in shown


def test_a_schedule_faster_than_the_api_pace_says_so() -> None:
    poll = PollSettings(public_inspection_seconds=1, public_inspection_burst_seconds=0.5)
    cost = public_inspection_cost(poll)
    assert not cost.polite
    assert "FASTER than the API's pace of 1 request/s" in cost.describe(poll)
