"""Liveness and readiness of the daemon, and the feed-freshness gauges, read from the shared tables.

Readiness reads ``feed_state`` rather than this process's memory: with two replicas only one polls a feed at a
time, and both must tell the truth about it. A feed fails readiness when it has failed ``daemon.ready_max_failures``
polls in a row, or when its last success (or the daemon's start, before a first success) is older than
``daemon.ready_stale_polls`` poll intervals. Ages are measured on the daemon's clock and converted to wall-clock
seconds, so a replay at 3600× is judged by the same thresholds as a live run.

Documents the pipeline has not finished (stored, but their pipeline step failed or was killed) are finished by the
next poll or the periodic sweep; one still waiting after ``daemon.ready_stuck_document_seconds`` fails readiness,
naming it, because a rule's card is missing until it is done.

Dead alert deliveries (refused by a sink, or still failing ``alerts.max_age_hours`` after they were due) fail
readiness while their alerts are younger than that limit: an alert a trader never got needs a human, and the check
names the sinks and the command that lists them. They clear when the sink recovers (which re-queues them) or a
human retries them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from jobs.http_server import Check
from monitor.clock import Clock, clock_speed
from monitor.config import Settings
from monitor.db.engine import read_only_sessions
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.feeds.health import FeedHealth, read_feed_health
from monitor.feeds.store import DueDocument, due_documents
from monitor.metrics import REGISTRY, last_successful_poll
from monitor.models import AlertStatus, FeedName

feed_consecutive_failures = Gauge(
    "monitor_feed_consecutive_failures",
    "Polls of the feed that failed in a row (0 after a success).",
    ["feed"],
    registry=REGISTRY,
)
documents_due = Gauge(
    "monitor_pipeline_documents_due",
    "Entity List documents stored but not yet finished by the pipeline (finished by the next poll or sweep).",
    registry=REGISTRY,
)
scheduler_heartbeat = Gauge(
    "monitor_scheduler_heartbeat_timestamp_seconds",
    "Unix time the scheduler last ran its heartbeat job.",
    registry=REGISTRY,
)


def poll_interval(feed: FeedName, settings: Settings) -> timedelta:
    poll = settings.poll
    seconds = {
        FeedName.PUBLIC_INSPECTION: poll.public_inspection_seconds,
        FeedName.DOCUMENTS: poll.documents_seconds,
        FeedName.CSL: poll.csl_hours * 3600,
    }[feed]
    return timedelta(seconds=seconds)


def feed_check(
    state: FeedHealth | None,
    *,
    feed: FeedName,
    settings: Settings,
    now: datetime,
    started_at: datetime,
    speed: float = 1.0,
) -> Check:
    """Pure: whether one feed is healthy at ``now``, with the reason an operator reads in /readyz."""
    name = f"feed:{feed.value}"
    limit = settings.daemon.ready_stale_polls * poll_interval(feed, settings).total_seconds()
    failures = state.consecutive_failures if state is not None else 0
    last = state.last_success_at if state is not None else None
    reference = max(last, started_at) if last is not None else started_at
    age = (now - reference).total_seconds() / speed
    seen = f"last success {_ago(now, last, speed)}"
    error = (state.last_error or "").splitlines()[0][:300] if state is not None and state.last_error else ""
    failing = f"{failures} failed poll{'s' if failures > 1 else ''} in a row ({error}); {seen}"
    if failures >= settings.daemon.ready_max_failures:
        return Check(name, False, failing)
    if age > limit:
        return Check(name, False, f"stale: {seen}, expected every {poll_interval(feed, settings).total_seconds():g}s")
    if failures:  # still ready: one failed poll is a blip, retried at the next tick
        return Check(name, True, failing)
    return Check(name, True, seen if last is not None else "waiting for the first poll")


def documents_check(due: Sequence[DueDocument], *, settings: Settings, now: datetime, speed: float = 1.0) -> Check:
    """Pure: documents waiting for the pipeline are normal for a moment (the poll that stored one runs it next);
    one waiting longer than ``daemon.ready_stuck_document_seconds`` is stuck, and its rule's card with it."""
    limit = settings.daemon.ready_stuck_document_seconds
    if not due:
        return Check("documents", True, "none waiting for the pipeline")
    stuck = [d for d in due if (now - d.due_since).total_seconds() / speed > limit]
    oldest = min(d.due_since for d in due)
    if not stuck:
        return Check(
            "documents", True, f"{len(due)} waiting for the pipeline, the oldest changed {_ago(now, oldest, speed)}"
        )
    named = ", ".join(f"{d.document_number} (changed {_ago(now, d.due_since, speed)})" for d in stuck[:5])
    more = f" and {len(stuck) - 5} more" if len(stuck) > 5 else ""
    return Check("documents", False, f"{len(stuck)} stuck in the pipeline for over {limit:g}s: {named}{more}")


def dead_deliveries(session: Session, *, since: datetime) -> dict[str, int]:
    """Dead deliveries per sink of alerts due after ``since``."""
    query = (
        select(AlertDelivery.sink, func.count())
        .join(AlertRow, AlertRow.id == AlertDelivery.alert_id)
        .where(AlertDelivery.status == AlertStatus.DEAD.value, AlertRow.due_at > since)
        .group_by(AlertDelivery.sink)
    )
    return {str(sink): int(n) for sink, n in session.execute(query)}


def alerts_check(dead: Mapping[str, int], *, settings: Settings) -> Check:
    """Pure: not ready while alerts younger than ``alerts.max_age_hours`` have a dead delivery."""
    total = sum(dead.values())
    if not total:
        return Check("alerts", True, "no dead deliveries")
    per_sink = ", ".join(f"{sink}: {n}" for sink, n in sorted(dead.items()))
    return Check(
        "alerts",
        False,
        f"{total} dead deliver{'y' if total == 1 else 'ies'} of alerts from the last "
        f"{settings.alerts.max_age_hours:g} h ({per_sink}): see `monitor alerts list --status dead`",
    )


def _ago(now: datetime, when: datetime | None, speed: float) -> str:
    if when is None:
        return "never"
    seconds = max(0.0, (now - when).total_seconds() / speed)
    return f"{seconds:.0f}s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def export_feed_gauges(states: Mapping[str, FeedHealth]) -> None:
    for feed, state in states.items():
        if state.last_success_at is not None:
            last_successful_poll.labels(feed=feed).set(state.last_success_at.timestamp())
        feed_consecutive_failures.labels(feed=feed).set(state.consecutive_failures)


class Probes:
    """The callables the ``HealthServer`` serves; cheap, and never raising (the server maps errors to 503)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        clock: Clock,
        *,
        feeds: Iterable[FeedName],
        scheduler_alive: Callable[[], bool],
        stopping: Callable[[], bool],
        heartbeat_max_age: float = 60.0,
    ) -> None:
        self.sessions = read_only_sessions(sessions)  # a probe must not queue behind a writer's lock
        self.settings = settings
        self.clock = clock
        self.feeds = tuple(feeds)
        self.scheduler_alive = scheduler_alive
        self.stopping = stopping
        self.heartbeat_max_age = heartbeat_max_age
        self.started_at = clock.now()
        self.last_beat = time.monotonic()

    def beat(self) -> None:
        self.last_beat = time.monotonic()
        scheduler_heartbeat.set(time.time())

    def liveness(self) -> list[Check]:
        alive = self.scheduler_alive()
        since = time.monotonic() - self.last_beat
        return [
            Check("scheduler", alive, "running" if alive else "not running"),
            Check(
                "heartbeat",
                since <= self.heartbeat_max_age,
                f"last job run {since:.0f}s ago"
                + ("" if since <= self.heartbeat_max_age else ": the scheduler is stuck"),
            ),
        ]

    def readiness(self) -> list[Check]:
        checks = [Check("scheduler", not self.stopping() and self.scheduler_alive(), self._scheduler_state())]
        now = self.clock.now()
        try:
            states = read_feed_health(self.sessions)
            with self.sessions() as session:
                due = due_documents(session)
                dead = dead_deliveries(session, since=now - timedelta(hours=self.settings.alerts.max_age_hours))
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            checks.append(Check("database", False, f"unreachable: {reason[0] if reason else type(exc).__name__}"))
            return checks
        checks.append(Check("database", True, "reachable"))
        export_feed_gauges(states)
        speed = clock_speed(self.clock)
        for feed in self.feeds:
            checks.append(
                feed_check(
                    states.get(feed.value),
                    feed=feed,
                    settings=self.settings,
                    now=now,
                    started_at=self.started_at,
                    speed=speed,
                )
            )
        documents_due.set(len(due))
        checks.append(documents_check(due, settings=self.settings, now=now, speed=speed))
        checks.append(alerts_check(dead, settings=self.settings))
        return checks

    def _scheduler_state(self) -> str:
        if self.stopping():
            return "stopping"
        return "running" if self.scheduler_alive() else "not running"
