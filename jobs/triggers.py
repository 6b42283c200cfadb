"""When to poll public inspection: every ``poll.public_inspection_seconds``, faster right after a posting time.

The Office of the Federal Register posts filings at fixed Eastern times (``monitor.feeds.schedule``); a rule filed
at 16:15 is public before the next open, so the minutes after each slot are when being early pays. The trigger
polls every ``public_inspection_burst_seconds`` for ``burst_minutes`` after each slot, and outside bursts lands a
poll on the next slot itself instead of up to one interval after it. Posting times are judged on the daemon's
clock (simulated time in a replay); the step is converted to wall-clock seconds for the scheduler.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from monitor.clock import Clock, clock_speed
from monitor.config import PollSettings
from monitor.feeds.schedule import in_burst, next_posting_after

MIN_STEP_SECONDS = 0.1  # never schedule two polls closer than this, however close the next posting slot is


def public_inspection_step(now: datetime, poll: PollSettings, *, speed: float = 1.0) -> float:
    """Wall-clock seconds until the next public-inspection poll, decided at ``now`` (the daemon's clock)."""
    normal = poll.public_inspection_seconds
    if poll.burst_minutes > 0 and in_burst(now, poll.burst_minutes):
        return min(poll.public_inspection_burst_seconds, normal)
    try:
        slot = next_posting_after(now)
    except ValueError:  # no posting day within three weeks: cannot happen with the federal calendar
        return normal
    until_slot = (slot - now).total_seconds() / speed
    return max(MIN_STEP_SECONDS, min(normal, until_slot))


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
            f"every {poll.public_inspection_seconds:g}s, every {poll.public_inspection_burst_seconds:g}s for "
            f"{poll.burst_minutes} min after each posting time"
        )

    def __repr__(self) -> str:
        return f"<PublicInspectionTrigger ({self})>"
