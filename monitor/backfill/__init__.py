"""Historical backfill: past Entity List rules replayed through the daemon's pipeline with the clock in the past.

``Backfill`` (built by ``monitor.commands.compose.backfill(sessions, settings, calendars=, poller=,
federal_register=, price_source=, clock=)``) ``.run(BackfillRequest(since, until, alerts=, overrides=))`` returns a
``BackfillSummary``. ``load_overrides`` reads the shipped announcement
times of rules known to have been public before their filing, plus an operator's file.
"""

from monitor.backfill.overrides import load_overrides, shipped_overrides
from monitor.backfill.runner import Backfill, BackfillInterrupted, BackfillRequest, NoProgress, Progress
from monitor.backfill.summary import BackfillSummary, EventLine, Failure

__all__ = [
    "Backfill",
    "BackfillInterrupted",
    "BackfillRequest",
    "BackfillSummary",
    "EventLine",
    "Failure",
    "NoProgress",
    "Progress",
    "load_overrides",
    "shipped_overrides",
]
