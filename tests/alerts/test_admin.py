"""Operator actions on the outbox: listing deliveries and queueing a dead one again, never a sent one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from alerts.admin import list_deliveries, retry_delivery
from monitor.config import Settings
from monitor.db.tables.outbox import AlertDelivery
from monitor.errors import InputError
from monitor.models import AlertStage, AlertStatus
from monitor.outbox import enqueue
from tests.fakes.alert_samples import detected, follow_up, make_event

NOW = datetime(2019, 10, 7, 21, 0, tzinfo=UTC)
SETTINGS = Settings(slack={"bot_token": "xoxb-a", "channel": "C1"}, webhook={"url": "http://127.0.0.1:9/h"})


def seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        event = make_event(session)
        enqueue(session, detected(event), settings=SETTINGS, now=NOW)
        enqueue(session, follow_up(event, AlertStage.DAY0), settings=SETTINGS, now=NOW)


def set_status(sessions: sessionmaker[Session], delivery_id: int, **values: object) -> None:
    with sessions.begin() as session:
        session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id).values(**values))


def test_list_is_newest_first_and_filters_by_status(sqlite_sessions: sessionmaker[Session]) -> None:
    seed(sqlite_sessions)
    set_status(
        sqlite_sessions, 1, status="dead", attempts=8, last_error="Slack refused chat.postMessage: not_in_channel"
    )
    with sqlite_sessions() as session:
        everything = list_deliveries(session)
        dead = list_deliveries(session, status=AlertStatus.DEAD)
        assert list_deliveries(session, limit=1)[0].stage == "day0"
    assert [(v.stage, v.sink) for v in everything] == [
        ("day0", "slack"),
        ("day0", "webhook"),
        ("detected", "slack"),
        ("detected", "webhook"),
    ]
    [row] = dead
    assert (row.id, row.status, row.attempts, row.dedup_key) == (1, "dead", 8, "event:1:g:all:detected")
    assert row.as_json()["last_error"].endswith("not_in_channel")


def test_retry_requeues_a_dead_delivery_and_remembers_it_may_have_landed(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    set_status(sessions, 1, status="dead", attempts=8, receipt={"ts": "1570479300.000100"})
    with sessions.begin() as session:
        view = retry_delivery(session, 1, now=NOW + timedelta(hours=2), claim_timeout_seconds=600)
    assert (view.status, view.attempts, view.next_attempt_at) == ("pending", 0, NOW + timedelta(hours=2))
    with sessions() as session:
        delivery = session.get(AlertDelivery, 1)
        assert delivery is not None
        assert delivery.receipt == {"ts": "1570479300.000100", "maybe_delivered": True}


def test_retry_refuses_what_was_sent_or_is_being_sent(sqlite_sessions: sessionmaker[Session]) -> None:
    seed(sqlite_sessions)
    set_status(sqlite_sessions, 1, status="sent", sent_at=NOW)
    set_status(sqlite_sessions, 2, status="sending", claimed_at=NOW, claim_token="worker-a", attempts=1)
    with sqlite_sessions.begin() as session:
        with pytest.raises(InputError, match="is not sent twice"):
            retry_delivery(session, 1, now=NOW, claim_timeout_seconds=600)
        with pytest.raises(InputError, match="being sent right now"):
            retry_delivery(session, 2, now=NOW + timedelta(seconds=30), claim_timeout_seconds=600)
        with pytest.raises(InputError, match="no alert delivery with ID 77"):
            retry_delivery(session, 77, now=NOW, claim_timeout_seconds=600)
        stuck = retry_delivery(session, 2, now=NOW + timedelta(hours=1), claim_timeout_seconds=600)
    assert stuck.status == "pending"
