"""The outbox's write side: typed alerts, dedup keys, routing and idempotent, uncommitted enqueueing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Settings
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.models import AlertStage, ParseStatus, Relation
from monitor.outbox import (
    OperatorAlert,
    Routing,
    apply_routing,
    configured_sinks,
    dedup_key,
    enqueue,
    parse_alert,
    route,
)
from tests.fakes.alert_samples import detected, follow_up, make_event

NOW = datetime(2019, 10, 7, 20, 20, tzinfo=UTC)


def _settings(**alerts: object) -> Settings:
    return Settings(
        slack={"bot_token": SecretStr("xoxb-unit"), "channel": "C0TEST"},
        webhook={"url": "http://127.0.0.1:9/hook"},
        alerts=alerts,
    )


def test_dedup_key_names_event_subject_and_stage() -> None:
    assert dedup_key(7, AlertStage.DETECTED) == "event:7:g:all:detected"
    assert dedup_key(7, "day1", symbol="002415.SZ") == "event:7:s:002415.SZ:day1"
    assert dedup_key(7, AlertStage.DAY5, group="supplier") == "event:7:g:supplier:day5"
    assert detected(7).dedup_key == "event:7:g:all:detected"
    assert follow_up(7, AlertStage.DAY0).dedup_key == "event:7:g:all:day0"
    with pytest.raises(ValueError, match="day9"):
        dedup_key(7, "day9")


@pytest.mark.parametrize("stage", [AlertStage.DAY0, AlertStage.DAY1, AlertStage.DAY5, AlertStage.WINDOW_CLOSED])
def test_every_stage_round_trips_through_its_stored_payload(stage: AlertStage) -> None:
    for alert in (detected(3), follow_up(3, stage)):
        assert parse_alert(alert.model_dump(mode="json")) == alert
    operator = OperatorAlert(key="dead:slack:x", summary="s", raised_at=NOW)
    assert parse_alert(operator.model_dump(mode="json")) == operator


def test_a_payload_of_the_wrong_shape_is_refused() -> None:
    payload = detected(3).model_dump(mode="json")
    payload["stage"] = "day1"  # a follow-up needs car_window; a detected alert's fields are unknown to it
    with pytest.raises(ValidationError):
        parse_alert(payload)


def test_configured_sinks_follow_the_settings() -> None:
    assert configured_sinks(Settings()) == ("console",)
    assert configured_sinks(_settings()) == ("slack", "webhook")
    assert configured_sinks(_settings(routes={"console": {}})) == ("slack", "webhook", "console")


def test_routes_filter_securities_per_sink_by_relation_and_score() -> None:
    alert = detected(1)
    settings = _settings(routes={"slack": {"relations": ["direct"], "min_score": 0.9}}).alerts
    slack = route(alert, "slack", settings)
    assert slack is not None
    assert slack.symbols == ("002415.SZ", "002236.SZ", "002230.SZ", "300188.SZ")
    assert route(alert, "webhook", settings) == Routing()  # no route: everything
    view = apply_routing(alert, slack)
    assert {s.relation for s in view.securities} == {Relation.DIRECT}  # type: ignore[union-attr]
    assert len(view.entities) == 28  # type: ignore[union-attr]


def test_mutes_drop_symbols_and_entities_and_a_rule_only_about_muted_names() -> None:
    alert = detected(1)
    settings = _settings(mute_symbols=["nvda"], mute_entities=["  zhejiang DAHUA technology co., ltd. "]).alerts
    decision = route(alert, "slack", settings)
    assert decision is not None
    assert decision.symbols is not None
    assert "NVDA" not in decision.symbols
    assert not {"002236.SZ", "STX", "WDC"} & set(decision.symbols)  # brought in by the muted entity
    assert decision.hidden_entities == ("Zhejiang Dahua Technology Co., Ltd.",)
    view = apply_routing(alert, decision)
    assert "Zhejiang Dahua Technology Co., Ltd." not in {e.name for e in view.entities}  # type: ignore[union-attr]

    only_dahua = detected(1, n_entities=2, n_securities=0).model_copy(update={"entities": alert.entities[1:2]})
    assert route(only_dahua, "slack", settings) is None
    everything_filtered = _settings(routes={"slack": {"min_score": 0.99}}).alerts
    assert route(alert, "slack", everything_filtered) is None


def test_an_unparsed_rule_still_routes_everywhere() -> None:
    alert = detected(1, n_entities=0, n_securities=0).model_copy(
        update={"parse_status": ParseStatus.FAILED, "parse_error": "GPOTABLE missing"}
    )
    settings = _settings(routes={"slack": {"relations": ["direct"], "min_score": 0.95}}).alerts
    assert route(alert, "slack", settings) == Routing()


def test_follow_up_routing_keeps_group_series_and_routed_symbols() -> None:
    alert = follow_up(1, AlertStage.DAY1)
    decision = route(alert, "slack", _settings(routes={"slack": {"relations": ["supplier"]}}).alerts)
    assert decision is not None
    view = apply_routing(alert, decision)
    assert {s.symbol for s in view.securities} == {"AMBA", "NVDA", "STX", "WDC"}  # type: ignore[union-attr]
    assert [p.label for p in view.paths] == ["all (CAAR)"]  # type: ignore[union-attr]


def test_enqueue_writes_one_alert_and_one_routed_delivery_per_sink(sessions: sessionmaker[Session]) -> None:
    settings = _settings(routes={"webhook": {"relations": ["supplier"]}})
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
        enqueue(session, detected(event_id), settings=_settings(), now=NOW)
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
        enqueue(session, detected(event_id), settings=_settings(), now=NOW)
        enqueue(session, follow_up(event_id, AlertStage.DAY0), settings=_settings(), now=NOW, due_at=NOW)
        session.rollback()  # the facts failed to commit: so must their alerts
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 0


def test_due_at_and_operator_sink_override(sessions: sessionmaker[Session]) -> None:
    later = NOW + timedelta(days=1)
    with sessions.begin() as session:
        event_id = make_event(session)
        enqueue(session, follow_up(event_id, AlertStage.DAY1), settings=_settings(), now=NOW, due_at=later)
        operator = OperatorAlert(key="dead:slack:2019100720", summary="alerts to slack are failing", raised_at=NOW)
        result = enqueue(session, operator, settings=_settings(), now=NOW, sinks=["console"])
    assert result.sinks == ("console",)
    with sessions() as session:
        rows = {r.stage: r for r in session.scalars(select(AlertRow))}
        assert rows["day1"].due_at == later
        assert rows["operator"].event_id is None
        assert rows["operator"].dedup_key == "operator:dead:slack:2019100720"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):  # refused before anything touches the session
        enqueue(Session(), detected(1), settings=Settings(), now=datetime(2019, 10, 7, 20, 0))
