"""When to poll public inspection: every ``poll.public_inspection_seconds``, faster around each posting time.

The Office of the Federal Register posts filings at fixed Eastern times (``monitor.feeds.schedule``); a rule filed
at 16:15 is public before the next open, so the minutes around each slot are when being early pays. The trigger
polls every ``public_inspection_burst_seconds`` from ``burst_lead_minutes`` before to ``burst_minutes`` after each
slot, and outside bursts lands a poll on the next burst's start instead of up to one interval after it. Posting
times are judged on the daemon's clock (simulated time in a replay); the step is converted to wall-clock seconds
for the scheduler. ``public_inspection_cost`` states what that schedule asks of the API (``monitor config show``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from monitor.clock import Clock, clock_speed
from monitor.config import PollSettings
from monitor.feeds.schedule import POSTING_TIMES, burst_seconds_per_posting_day, in_burst, next_posting_after

MIN_STEP_SECONDS = 0.1  # never schedule two polls closer than this, however close the next posting slot is
API_PACE_PER_SECOND = 1.0  # the Federal Register publishes no limit; about one request a second is the polite pace
CURRENT_JSON_BYTES = 15_133  # current.json on the wire, gzipped (107 filings, 2026-10-02; 173 KB decoded)


def public_inspection_step(now: datetime, poll: PollSettings, *, speed: float = 1.0) -> float:
    """Wall-clock seconds until the next public-inspection poll, decided at ``now`` (the daemon's clock)."""
    normal = poll.public_inspection_seconds
    if poll.burst_minutes > 0 and in_burst(now, poll.burst_minutes, poll.burst_lead_minutes):
        return min(poll.public_inspection_burst_seconds, normal)
    try:
        slot = next_posting_after(now)
    except ValueError:  # no posting day within three weeks: cannot happen with the federal calendar
        return normal
    burst_starts = slot - timedelta(minutes=poll.burst_lead_minutes if poll.burst_minutes > 0 else 0)
    until_burst = (burst_starts - now).total_seconds() / speed
    return max(MIN_STEP_SECONDS, min(normal, until_burst))


@dataclass(frozen=True)
class PollCost:
    """What the public-inspection schedule asks of the API, in requests (one ``current.json`` check each)."""

    per_hour: float  # outside bursts
    per_burst_hour: float
    per_posting_day: float  # a federal business day, bursts included
    per_other_day: float  # weekends and federal holidays: no bursts
    peak_per_second: float

    @property
    def polite(self) -> bool:
        return self.peak_per_second <= API_PACE_PER_SECOND

    def describe(self, poll: PollSettings) -> str:
        slots = ", ".join(slot.strftime("%H:%M") for slot in POSTING_TIMES)
        burst = (
            f"; every {min(poll.public_inspection_burst_seconds, poll.public_inspection_seconds):g} s "
            f"({self.per_burst_hour:,.0f}/hour) from {poll.burst_lead_minutes} min before to {poll.burst_minutes} "
            f"min after {slots} ET on business days"
            if poll.burst_minutes > 0
            else ""
        )
        megabytes = self.per_posting_day * CURRENT_JSON_BYTES / 1e6
        pace = "" if self.polite else f"; FASTER than the API's pace of {API_PACE_PER_SECOND:g} request/s"
        return (
            f"every {poll.public_inspection_seconds:g} s ({self.per_hour:,.0f} requests/hour){burst}: "
            f"≈ {self.per_posting_day:,.0f} requests a business day (≈ {megabytes:.0f} MB gzipped), "
            f"{self.per_other_day:,.0f} on other days; at most {self.peak_per_second:.2g} request/s{pace}"
        )


def public_inspection_cost(poll: PollSettings) -> PollCost:
    """Requests per hour and per day of the schedule ``public_inspection_step`` follows (the one extra poll that
    lands on each burst's start is left out: at most five a day)."""
    normal = poll.public_inspection_seconds
    fast = min(poll.public_inspection_burst_seconds, normal)
    day = 24 * 3600.0
    burst = burst_seconds_per_posting_day(poll.burst_minutes, poll.burst_lead_minutes) if poll.burst_minutes else 0.0
    return PollCost(
        per_hour=3600 / normal,
        per_burst_hour=3600 / fast,
        per_posting_day=burst / fast + (day - burst) / normal,
        per_other_day=day / normal,
        peak_per_second=1 / fast if burst else 1 / normal,
    )


class PublicInspectionTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler 3 trigger whose step depends on where the clock is relative to the posting times."""

    __slots__ = ("clock", "poll")

    def __init__(self, poll: PollSettings, clock: Clock) -> None:
        self.poll = poll
        self.clock = clock

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        step = timedelta(seconds=public_inspection_step(self.clock.now(), self.poll, speed=clock_speed(self.clock)))
        # After a stall (a suspended host), resume from now: the missed runs coalesce into one anyway.
        return max((previous_fire_time or now) + step, now)

    def __str__(self) -> str:
        poll = self.poll
        return (
            f"every {poll.public_inspection_seconds:g}s, every {poll.public_inspection_burst_seconds:g}s from "
            f"{poll.burst_lead_minutes} min before to {poll.burst_minutes} min after each posting time"
        )

    def __repr__(self) -> str:
        return f"<PublicInspectionTrigger ({self})>"
