"""Readiness from the shared feed state, liveness from the scheduler, judged on the daemon's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from jobs.health import Probes, feed_check
from jobs.http_server import Check
from monitor import metrics
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.tables.outbox import AlertDelivery
from monitor.feeds import store
from monitor.feeds.health import FeedHealth
from monitor.models import FeedName
from monitor.outbox import enqueue
from tests.fakes.alert_samples import detected, make_event

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
SETTINGS = Settings(poll={"public_inspection_seconds": 60}, daemon={"ready_max_failures": 3, "ready_stale_polls": 5})
STARTED = NOW - timedelta(hours=1)


def check(state: FeedHealth | None, *, now: datetime = NOW, speed: float = 1.0, started: datetime = STARTED) -> Check:
    return feed_check(
        state, feed=FeedName.PUBLIC_INSPECTION, settings=SETTINGS, now=now, started_at=started, speed=speed
    )


def test_a_fresh_feed_is_ready() -> None:
    result = check(FeedHealth("pi", NOW - timedelta(seconds=30), 0, None))
    assert (result.ok, result.detail) == (True, "last success 30s ago")


def test_consecutive_failures_make_it_not_ready_with_the_error() -> None:
    state = FeedHealth("pi", NOW - timedelta(seconds=90), 3, "federal_register: HTTP 500 Internal Server Error\nmore")
    result = check(state)
    assert not result.ok
    assert result.detail == (
        "3 failed polls in a row (federal_register: HTTP 500 Internal Server Error); last success 90s ago"
    )
    blip = check(FeedHealth("pi", NOW - timedelta(seconds=90), 1, "HTTP 500"))
    assert (blip.ok, blip.detail) == (True, "1 failed poll in a row (HTTP 500); last success 90s ago")


def test_a_stale_feed_is_not_ready() -> None:
    result = check(FeedHealth("pi", NOW - timedelta(minutes=6), 0, None))
    assert not result.ok
    assert result.detail == "stale: last success 6 min ago, expected every 60s"


def test_before_the_first_poll_the_start_counts() -> None:
    just_started = check(None, started=NOW - timedelta(seconds=10))
    assert (just_started.ok, just_started.detail) == (True, "waiting for the first poll")
    assert not check(None).ok
    # A last success from before a long downtime does not make a just-restarted daemon unready.
    restarted = check(FeedHealth("pi", NOW - timedelta(days=2), 0, None), started=NOW - timedelta(seconds=5))
    assert restarted.ok


def test_replay_ages_are_wall_clock_seconds() -> None:
    """Six simulated minutes at 60x are six wall seconds: fresh."""
    assert check(FeedHealth("pi", NOW - timedelta(minutes=6), 0, None), speed=60).ok


def probes_for(sessions: sessionmaker[Session], clock: SimulatedClock, *, alive: bool = True) -> Probes:
    return Probes(
        sessions,
        SETTINGS,
        clock,
        feeds=[FeedName.PUBLIC_INSPECTION, FeedName.DOCUMENTS],
        scheduler_alive=lambda: alive,
        stopping=lambda: False,
    )


def test_readiness_reads_the_shared_feed_state(sessions: sessionmaker[Session]) -> None:
    clock = SimulatedClock(NOW)
    probes = probes_for(sessions, clock)
    with sessions.begin() as session:
        store.record_poll_success(session, FeedName.PUBLIC_INSPECTION, NOW - timedelta(seconds=20), {})
        store.record_poll_success(session, FeedName.DOCUMENTS, NOW - timedelta(seconds=20), {})
        for _ in range(3):
            store.record_poll_failure(session, FeedName.DOCUMENTS, NOW, "federal_register: timed out")
    checks = {c.name: c for c in probes.readiness()}
    assert checks["database"].ok
    assert checks["scheduler"].ok
    assert checks["feed:pi"].ok
    assert not checks["feed:fr"].ok
    assert "3 failed polls in a row (federal_register: timed out)" in checks["feed:fr"].detail
    gauge = metrics.REGISTRY.get_sample_value("monitor_feed_consecutive_failures", {"feed": "fr"})
    assert gauge == 3
    last = metrics.REGISTRY.get_sample_value("monitor_last_successful_poll_timestamp_seconds", {"feed": "pi"})
    assert last == pytest.approx((NOW - timedelta(seconds=20)).timestamp())


def test_an_unreachable_database_is_not_ready() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    try:
        probes = probes_for(session_factory(engine), SimulatedClock(NOW))
        checks = {c.name: c for c in probes.readiness()}
    finally:
        engine.dispose()
    assert not checks["database"].ok
    assert checks["database"].detail.startswith("unreachable: ")
    assert "feed:pi" not in checks


def test_liveness_follows_the_scheduler_and_its_heartbeat(sessions: sessionmaker[Session]) -> None:
    probes = probes_for(sessions, SimulatedClock(NOW))
    probes.beat()
    assert all(c.ok for c in probes.liveness())
    probes.last_beat -= 120  # no job has run for two minutes: the scheduler is wedged
    assert [c.name for c in probes.liveness() if not c.ok] == ["heartbeat"]
    dead = probes_for(sessions, SimulatedClock(NOW), alive=False)
    assert [c.name for c in dead.liveness() if not c.ok] == ["scheduler"]
    assert not next(c for c in dead.readiness() if c.name == "scheduler").ok


def test_a_document_the_pipeline_has_not_finished_for_too_long_fails_readiness(
    sessions: sessionmaker[Session],
) -> None:
    """Stored by a poll whose pipeline step never completed: normal for a moment, stuck (503, named) after
    ``daemon.ready_stuck_document_seconds`` on the daemon's clock; ready again once a catch-up finished it."""
    from monitor.db.tables import Document, EventRow

    clock = SimulatedClock(NOW)
    settings = Settings(daemon={"ready_stuck_document_seconds": 600})
    probes = Probes(sessions, settings, clock, feeds=[], scheduler_alive=lambda: True, stopping=lambda: False)
    stored = NOW - timedelta(seconds=30)
    with sessions.begin() as session:
        document = Document(
            document_number="2019-22210",
            source="pi",
            title="Addition of Certain Entities to the Entity List",
            first_seen_at=stored,
            is_entity_list=True,
        )
        session.add(document)
        session.flush()
        document_id = document.id
        store.mark_pipeline_due(session, document_id, stored)
    checks = {c.name: c for c in probes.readiness()}
    assert (checks["documents"].ok, checks["documents"].detail) == (
        True,
        "1 waiting for the pipeline, the oldest changed 30s ago",
    )
    assert metrics.REGISTRY.get_sample_value("monitor_pipeline_documents_due", {}) == 1
    clock.set(NOW + timedelta(minutes=10))  # 10.5 minutes after it was stored
    checks = {c.name: c for c in probes.readiness()}
    assert not checks["documents"].ok
    assert checks["documents"].detail == ("1 stuck in the pipeline for over 600s: 2019-22210 (changed 10 min ago)")
    with sessions.begin() as session:  # what the pipeline's write does: the event, and revision 1 processed
        session.add(
            EventRow(
                document_id=document_id,
                announced_at=NOW - timedelta(hours=1),
                announced_source="pi_filed_at",
                title="Addition of Certain Entities to the Entity List",
                created_at=clock.now(),
            )
        )
        assert store.finish_pipeline(session, document_id, 1)
    checks = {c.name: c for c in probes.readiness()}
    assert (checks["documents"].ok, checks["documents"].detail) == (True, "none waiting for the pipeline")


def test_dead_deliveries_of_recent_alerts_make_it_not_ready(sessions: sessionmaker[Session]) -> None:
    settings = Settings(slack={"bot_token": "xoxb-unused", "channel": "C0UNUSED"}, alerts={"max_age_hours": 24})
    with sessions.begin() as session:
        for number, due, status in (
            ("2019-22210", NOW - timedelta(hours=2), "dead"),
            ("2019-22211", NOW - timedelta(hours=30), "dead"),  # older than the age limit: history
            ("2019-22212", NOW - timedelta(hours=1), "sent"),
        ):
            event = make_event(session, number)
            queued = enqueue(session, detected(event), settings=settings, now=due)
            session.execute(
                update(AlertDelivery).where(AlertDelivery.alert_id == queued.alert_id).values(status=status)
            )
    probes = probes_for(sessions, SimulatedClock(NOW))
    probes.settings = settings
    [alerts] = [c for c in probes.readiness() if c.name == "alerts"]
    assert not alerts.ok
    assert alerts.detail == (
        "1 dead delivery of alerts from the last 24 h (slack: 1): see `monitor alerts list --status dead`"
    )
    with sessions.begin() as session:
        session.execute(update(AlertDelivery).values(status="sent"))
    [alerts] = [c for c in probes.readiness() if c.name == "alerts"]
    assert (alerts.ok, alerts.detail) == (True, "no dead deliveries")
