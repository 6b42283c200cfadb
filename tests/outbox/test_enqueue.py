"""enqueue: one alert and one routed delivery per sink in the caller's transaction, idempotent on its key."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Settings
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.models import AlertStage
from monitor.outbox import (
    OperatorAlert,
    enqueue,
    parse_alert,
)
from tests.fakes.alert_samples import detected, follow_up, make_event
from tests.outbox.samples import NOW, sink_settings


def test_enqueue_writes_one_alert_and_one_routed_delivery_per_sink(sessions: sessionmaker[Session]) -> None:
    settings = sink_settings(routes={"webhook": {"relations": ["supplier"]}})
    with sessions.begin() as session:
        event_id = make_event(session)
        result = enqueue(session, detected(event_id), settings=settings, now=NOW)
    assert result.created
    assert result.sinks == ("slack", "webhook")
    with sessions() as session:
        row = session.scalars(select(AlertRow)).one()
        assert row.dedup_key == f"event:{event_id}:g:all:detected"
        assert (row.event_id, row.stage, row.group_key, row.due_at) == (event_id, "detected", "all", NOW)
        assert parse_alert(row.payload) == detected(event_id)
        deliveries = {d.sink: d for d in session.scalars(select(AlertDelivery))}
        assert set(deliveries) == {"slack", "webhook"}
        assert deliveries["slack"].status == "pending"
        assert deliveries["slack"].next_attempt_at == NOW
        assert deliveries["slack"].routing == {"symbols": None, "hidden_entities": []}
        assert deliveries["webhook"].routing["symbols"] == ["AMBA", "NVDA", "STX", "WDC"]


def test_enqueue_twice_is_a_no_op_even_after_settings_change(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        event_id = make_event(session)
        enqueue(session, detected(event_id), settings=sink_settings(), now=NOW)
    with sessions.begin() as session:
        again = enqueue(session, detected(event_id, n_securities=2), settings=Settings(), now=NOW + timedelta(hours=1))
    assert not again.created
    assert again.sinks == ()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 1
        assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 2
        assert len(parse_alert(session.scalars(select(AlertRow)).one().payload).securities) == 8  # type: ignore[union-attr]


def test_enqueue_never_commits_the_callers_transaction(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        event_id = make_event(session)
        enqueue(session, detected(event_id), settings=sink_settings(), now=NOW)
        enqueue(session, follow_up(event_id, AlertStage.DAY0), settings=sink_settings(), now=NOW, due_at=NOW)
        session.rollback()  # the facts failed to commit: so must their alerts
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 0


def test_due_at_and_operator_sink_override(sessions: sessionmaker[Session]) -> None:
    later = NOW + timedelta(days=1)
    with sessions.begin() as session:
        event_id = make_event(session)
        enqueue(session, follow_up(event_id, AlertStage.DAY1), settings=sink_settings(), now=NOW, due_at=later)
        operator = OperatorAlert(key="dead:slack:2019100720", summary="alerts to slack are failing", raised_at=NOW)
        result = enqueue(session, operator, settings=sink_settings(), now=NOW, sinks=["console"])
    assert result.sinks == ("console",)
    with sessions() as session:
        rows = {r.stage: r for r in session.scalars(select(AlertRow))}
        assert rows["day1"].due_at == later
        assert rows["operator"].event_id is None
        assert rows["operator"].dedup_key == "operator:dead:slack:2019100720"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):  # refused before anything touches the session
        enqueue(Session(), detected(1), settings=Settings(), now=datetime(2019, 10, 7, 20, 0))
