"""The delivery worker on SQLite and PostgreSQL: claims, threads, retries, dead rows, operator alerts, recovery."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from alerts.delivery import DeliveryWorker
from alerts.sink import Outgoing, Receipt, Sink
from alerts.slack import SlackSink
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.errors import DeliveryFailed, DeliveryRejected
from monitor.metrics import REGISTRY
from monitor.models import AlertStage
from monitor.outbox import AnyAlert, enqueue, parse_alert
from tests.fakes.alert_samples import detected, follow_up, make_event
from tests.fakes.sinks import FakeSink
from tests.fakes.slack_server import FakeSlack, Fault

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


_WALL: list[datetime] = []


@pytest.fixture(autouse=True)
def _one_wall_instant() -> Iterator[None]:
    """Each test sees one wall instant, so a clock built before ``add`` and ``add`` itself agree (no second
    boundary between them can make a delivery look not yet due)."""
    _WALL.append(datetime.now(UTC).replace(microsecond=0))
    yield
    _WALL.clear()


def wall_now() -> datetime:
    return _WALL[-1]


def make_settings(slack: FakeSlack | None = None, **alerts: Any) -> Settings:
    alerts.setdefault("backoff_base_seconds", 5)
    alerts.setdefault("backoff_max_seconds", 60)
    section = slack.settings() if slack else {"bot_token": "xoxb-unused", "channel": "C0UNUSED"}
    return Settings(slack=section, alerts=alerts)


def slack_sink(slack: FakeSlack, settings: Settings) -> SlackSink:
    return SlackSink.from_settings(settings, interval=FixedValueRetryIntervalCalculator(0.01), retry_pause=0.01)


def add(sessions: sessionmaker[Session], settings: Settings, *alerts: AnyAlert, **options: Any) -> list[int]:
    now = options.pop("now", wall_now())
    with sessions.begin() as session:
        return [enqueue(session, a, settings=settings, now=now, **options).alert_id for a in alerts]


def deliveries(sessions: sessionmaker[Session]) -> dict[str, AlertDelivery]:
    with sessions() as session:
        rows = session.execute(select(AlertRow.dedup_key, AlertDelivery).join(AlertDelivery)).all()
        return {f"{key}@{delivery.sink}": delivery for key, delivery in rows}


def new_event(sessions: sessionmaker[Session], number: str = "2019-22210") -> int:
    with sessions.begin() as session:
        return make_event(session, number)


def drain(worker: DeliveryWorker, clock: SimulatedClock, *, passes: int = 30) -> None:
    """Run passes, moving the clock past every backoff, until nothing is left to do."""
    for _ in range(passes):
        report = worker.run_once()
        if not (report.sent or report.retrying or report.waiting or report.skipped or report.lost):
            return
        clock.advance(timedelta(seconds=61))
    raise AssertionError("the outbox did not drain")


def test_a_rule_and_its_follow_ups_arrive_once_each_in_one_thread(
    sessions: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = make_settings(slack)
    event = new_event(sessions)
    add(sessions, settings, detected(event), follow_up(event, AlertStage.DAY0), follow_up(event, AlertStage.DAY1))
    worker = DeliveryWorker(
        sessions, {"slack": slack_sink(slack, settings)}, settings=settings, clock=SimulatedClock(wall_now())
    )
    report = worker.run_once()
    assert (report.sent, report.retrying, report.waiting) == (3, 0, 0)
    [root] = slack.top_level()
    replies = slack.thread(slack.channel, root["ts"])
    keys = [m["metadata"]["event_payload"]["dedup_key"] for m in replies if "metadata" in m]
    assert keys == [f"event:{event}:g:all:day0", f"event:{event}:g:all:day1"]
    assert sum(1 for m in replies if m.get("files")) == 2
    rows = deliveries(sessions)
    assert rows[f"event:{event}:g:all:detected@slack"].external_id == root["ts"]
    assert rows[f"event:{event}:g:all:day1@slack"].thread_ref == root["ts"]
    assert {row.status for row in rows.values()} == {"sent"}
    assert all(row.attempts == 1 and row.claim_token is None for row in rows.values())
    assert worker.run_once().sent == 0  # nothing is sent twice


def test_a_follow_up_waits_for_its_root_message(sqlite_sessions: sessionmaker[Session], slack: FakeSlack) -> None:
    settings = make_settings(slack, charts=False)
    clock = SimulatedClock(wall_now())
    event = new_event(sqlite_sessions)
    add(sqlite_sessions, settings, follow_up(event, AlertStage.DAY0))
    add(sqlite_sessions, settings, detected(event), due_at=clock.now() + timedelta(minutes=5))
    worker = DeliveryWorker(sqlite_sessions, {"slack": slack_sink(slack, settings)}, settings=settings, clock=clock)
    report = worker.run_once()
    assert (report.sent, report.waiting) == (0, 1)
    clock.advance(timedelta(minutes=5))
    slack.fail("chat.postMessage", *[Fault.server_error()] * 3)  # the root fails its first attempt
    report = worker.run_once()
    assert (report.sent, report.retrying, report.waiting) == (0, 1, 1)
    assert slack.messages() == []
    clock.advance(timedelta(seconds=5))
    report = worker.run_once()
    assert (report.sent, report.waiting) == (2, 0)  # the root, then at once its waiting follow-up
    [root] = slack.top_level()
    assert [m["metadata"]["event_payload"]["dedup_key"] for m in slack.thread(None, root["ts"])] == [
        f"event:{event}:g:all:day0"
    ]


def test_through_server_errors_and_dropped_connections_every_alert_arrives_once_in_its_thread(
    sqlite_sessions: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = make_settings(slack)
    alerts: list[AnyAlert] = []
    for number in range(3):
        event = new_event(sqlite_sessions, f"2019-2221{number}")
        alerts += [detected(event), follow_up(event, AlertStage.DAY0), follow_up(event, AlertStage.DAY1)]
    add(sqlite_sessions, settings, *alerts)
    slack.fail(
        "chat.postMessage",
        Fault.drop_after(),
        Fault.server_error(500),
        Fault.drop_before(),
        Fault.drop_after(),
        Fault.slack_error("internal_error"),
        Fault.server_error(503),
        Fault.server_error(500),
        Fault.server_error(500),
    )
    slack.fail("conversations.history", Fault.server_error(500), Fault.drop_before())
    slack.fail("conversations.replies", Fault.server_error(503))
    slack.fail("files.completeUploadExternal", Fault.drop_after(), Fault.server_error(500))
    slack.fail("chat.update", Fault.server_error(500), Fault.server_error(500), Fault.server_error(500))
    clock = SimulatedClock(wall_now())
    worker = DeliveryWorker(sqlite_sessions, {"slack": slack_sink(slack, settings)}, settings=settings, clock=clock)
    drain(worker, clock)
    assert set(slack.dedup_keys().values()) == {1}
    assert set(slack.dedup_keys()) == {a.dedup_key for a in alerts}
    roots = {m["metadata"]["event_payload"]["dedup_key"].split(":")[1]: m["ts"] for m in slack.top_level()}
    assert len(roots) == 3
    for alert in alerts:
        if alert.stage == AlertStage.DETECTED:
            continue
        thread = slack.thread(None, roots[str(alert.event_id)])  # type: ignore[union-attr]
        assert alert.dedup_key in {(m.get("metadata") or {}).get("event_payload", {}).get("dedup_key") for m in thread}
    charts = [f["name"] for m in slack.messages() for f in m.get("files", [])]
    assert sorted(charts) == sorted(set(charts))
    assert len(charts) == 6
    assert {row.status for row in deliveries(sqlite_sessions).values()} == {"sent"}


def test_server_errors_back_off_to_the_cap_and_never_exhaust_a_delivery_before_its_age_limit(
    sessions: sessionmaker[Session],
) -> None:
    settings = make_settings(max_attempts=3, max_age_hours=2)  # backoff 5 s doubling, capped at 60 s
    failing = FakeSink("slack", always=DeliveryFailed("Slack chat.postMessage failed: internal_error", sink="slack"))
    clock = SimulatedClock(datetime(2019, 10, 7, 20, 20, tzinfo=UTC))
    event = new_event(sessions)
    add(sessions, settings, detected(event), now=clock.now())
    worker = DeliveryWorker(sessions, {"slack": failing, "console": FakeSink()}, settings=settings, clock=clock)
    key = f"event:{event}:g:all:detected@slack"
    assert worker.run_once().retrying == 1
    row = deliveries(sessions)[key]
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, clock.now() + timedelta(seconds=5))
    assert "internal_error" in (row.last_error or "")
    assert worker.run_once().retrying == 0  # not due yet
    delays = []
    for _ in range(12):  # far past the old limit of max_attempts
        clock.advance(deliveries(sessions)[key].next_attempt_at - clock.now())
        assert worker.run_once().retrying == 1
        delays.append((deliveries(sessions)[key].next_attempt_at - clock.now()).total_seconds())
    assert delays == [10, 20, 40, *[60] * 9]
    assert deliveries(sessions)[key].status == "pending"
    clock.advance(timedelta(hours=2))  # two hours after the alert was due, a failure gives it up
    assert worker.run_once().dead == 1
    row = deliveries(sessions)[key]
    assert (row.status, row.attempts) == ("dead", 14)
    clock.advance(timedelta(days=1))
    assert worker.run_once().retrying == 0
    assert len(failing.attempts) == 14


def test_a_sink_that_keeps_failing_raises_one_operator_alert_per_hour_on_the_other_sinks(
    sqlite_sessions: sessionmaker[Session],
) -> None:
    settings = make_settings(max_attempts=2, max_age_hours=1, routes={"console": {}})
    failing = FakeSink("slack", always=DeliveryFailed("Slack chat.postMessage failed: internal_error", sink="slack"))
    console = FakeSink("console")
    clock = SimulatedClock(datetime(2019, 10, 7, 20, 20, tzinfo=UTC))
    event = new_event(sqlite_sessions)
    add(sqlite_sessions, settings, detected(event), follow_up(event, AlertStage.DAY0), sinks=["slack"], now=clock.now())
    worker = DeliveryWorker(sqlite_sessions, {"slack": failing, "console": console}, settings=settings, clock=clock)
    for _ in range(20):
        worker.run_once()
        clock.advance(timedelta(seconds=61))
    rows = deliveries(sqlite_sessions)
    assert {rows[f"event:{event}:g:all:{stage}@slack"].status for stage in ("detected", "day0")} == {"pending"}
    assert [item.alert.stage for item in console.sent] == [AlertStage.OPERATOR]  # one for the hour, not one per row
    operator = console.sent[0].alert
    assert operator.failed_sink == "slack"  # type: ignore[union-attr]
    assert operator.summary == "alerts to slack are failing"  # type: ignore[union-attr]
    assert "internal_error" in operator.detail  # type: ignore[union-attr, operator]
    clock.advance(timedelta(minutes=45))  # past the age limit: given up, and the operator hears that too
    for _ in range(3):
        worker.run_once()
        clock.advance(timedelta(seconds=61))
    rows = deliveries(sqlite_sessions)
    assert {rows[f"event:{event}:g:all:{stage}@slack"].status for stage in ("detected", "day0")} == {"dead"}
    summaries = [item.alert.summary for item in console.sent]  # type: ignore[union-attr]
    assert summaries == ["alerts to slack are failing", "an alert to slack was given up"]
    assert "monitor alerts list --status dead" in console.sent[1].alert.detail  # type: ignore[union-attr, operator]


def test_a_refusal_is_dead_at_once_and_the_operator_hears_elsewhere(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings(routes={"console": {}})
    slack = FakeSink(
        "slack", always=DeliveryRejected("Slack refused chat.postMessage: channel_not_found", sink="slack")
    )
    console = FakeSink("console")
    event = new_event(sqlite_sessions)
    add(sqlite_sessions, settings, detected(event))
    worker = DeliveryWorker(
        sqlite_sessions, {"slack": slack, "console": console}, settings=settings, clock=SimulatedClock(wall_now())
    )
    report = worker.run_once()
    assert (report.sent, report.dead) == (1, 1)
    worker.run_once()
    assert [item.alert.stage for item in console.sent] == [AlertStage.DETECTED, AlertStage.OPERATOR]
    assert "channel_not_found" in console.sent[1].alert.detail  # type: ignore[union-attr, operator]


def test_an_operator_alert_that_dies_raises_nothing_more(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings(routes={"console": {}})
    slack = FakeSink("slack", always=DeliveryRejected("refused", sink="slack"))
    console = FakeSink("console", always=DeliveryRejected("broken pipe", sink="console"))
    event = new_event(sqlite_sessions)
    add(sqlite_sessions, settings, detected(event), sinks=["slack"])
    worker = DeliveryWorker(
        sqlite_sessions, {"slack": slack, "console": console}, settings=settings, clock=SimulatedClock(wall_now())
    )
    for _ in range(3):
        worker.run_once()
    rows = deliveries(sqlite_sessions)
    assert len(rows) == 2
    assert {row.status for row in rows.values()} == {"dead"}
    assert [k.split("@")[1] for k in rows] == ["slack", "console"]


def test_when_the_only_sink_fails_the_operator_hears_in_the_log_as_an_error(
    sqlite_sessions: sessionmaker[Session],
) -> None:
    settings = make_settings()  # slack only
    slack = FakeSink("slack", always=DeliveryRejected("Slack refused chat.postMessage: not_in_channel", sink="slack"))
    console = FakeSink("console")
    add(sqlite_sessions, settings, detected(new_event(sqlite_sessions)))
    worker = DeliveryWorker(
        sqlite_sessions, {"slack": slack, "console": console}, settings=settings, clock=SimulatedClock(wall_now())
    )
    with capture_logs() as logs:
        worker.run_once()
        worker.run_once()
    [event] = [entry for entry in logs if entry["event"] == "operator_alert"]
    assert event["log_level"] == "error"
    assert event["summary"] == "an alert to slack was given up"
    assert "not_in_channel" in event["detail"]
    assert console.sent == []  # not configured: nobody reads its stdout
    assert len(deliveries(sqlite_sessions)) == 1  # no operator alert queued for a sink that is not there


def test_a_failing_sink_never_blocks_the_others(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings(routes={"console": {}})
    slack = FakeSink("slack", always=DeliveryFailed("timed out", sink="slack"))
    console = FakeSink("console")
    for number in range(4):
        add(sqlite_sessions, settings, detected(new_event(sqlite_sessions, f"2019-3000{number}")))
    worker = DeliveryWorker(
        sqlite_sessions, {"slack": slack, "console": console}, settings=settings, clock=SimulatedClock(wall_now())
    )
    report = worker.run_once()
    assert len(console.sent) == 4
    assert len(slack.attempts) == 1  # tried once this pass, the rest left for later
    assert (report.sent, report.retrying, report.skipped) == (4, 1, 3)


def test_a_crashed_claim_is_recovered_and_the_message_slack_already_has_is_adopted(
    sessions: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = make_settings(slack)
    sink = slack_sink(slack, settings)
    event = new_event(sessions)
    [alert_id] = add(sessions, settings, detected(event))
    crashed_at = wall_now()
    with sessions.begin() as session:  # a worker claimed it, Slack posted it, and the worker died before committing
        delivery = session.scalars(select(AlertDelivery)).one()
        row = session.get(AlertRow, alert_id)
        assert row is not None
        item = Outgoing(
            delivery.id, alert_id, row.dedup_key, "slack", parse_alert(row.payload), 1, False, row.created_at
        )
        posted = sink.deliver(item, lambda done: None)
        session.execute(
            update(AlertDelivery).values(status="sending", claim_token="dead-worker", claimed_at=crashed_at, attempts=1)
        )
    clock = SimulatedClock(crashed_at + timedelta(seconds=60))
    worker = DeliveryWorker(sessions, {"slack": sink}, settings=settings, clock=clock)
    assert worker.run_once().sent == 0  # the claim is not stale yet: it might still be working
    clock.advance(timedelta(seconds=settings.alerts.claim_timeout_seconds))
    report = worker.run_once()
    assert (report.sent, report.recovered) == (1, 1)
    assert slack.count("chat.postMessage") == 1
    row_after = deliveries(sessions)[f"event:{event}:g:all:detected@slack"]
    assert (row_after.status, row_after.external_id, row_after.attempts) == ("sent", posted.external_id, 2)


def test_a_claim_is_taken_over_at_once_only_when_its_owner_is_provably_dead(
    sessions: sessionmaker[Session],
) -> None:
    """A claim records its owner (host, PID, suffix). A live process of this host, or any owner on another host,
    may still be sending: its claim waits out the timeout. A process of this host that no longer runs cannot: its
    claim is taken over on the next pass, as a possibly-delivered attempt (the sink looks before it sends)."""
    settings = make_settings()
    host = socket.gethostname()
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    owners = {
        "live": f"{host}:{os.getppid()}:0a1b2c3d",  # the process that started these tests
        "elsewhere": f"another-{host}:{finished.pid}:0a1b2c3d",  # another host: its PIDs are not ours to check
        "dead": f"{host}:{finished.pid}:0a1b2c3d",
    }
    numbers = {"live": "2019-22210", "elsewhere": "2019-13245", "dead": "2020-10869"}
    ids = {name: add(sessions, settings, detected(new_event(sessions, numbers[name])))[0] for name in owners}
    assert len(set(ids.values())) == 3
    with sessions.begin() as session:
        for name, owner in owners.items():
            session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.alert_id == ids[name])
                .values(status="sending", claim_token=f"{name}-token", claim_owner=owner, claimed_at=wall_now())
                .values(attempts=1)
            )
    sink = FakeSink("slack")
    worker = DeliveryWorker(sessions, {"slack": sink}, settings=settings, clock=SimulatedClock(wall_now()))
    report = worker.run_once()
    assert (report.sent, report.recovered) == (1, 1)
    [item] = sink.sent
    assert item.alert_id == ids["dead"]
    assert item.maybe_delivered  # it may have reached the sink before the owner died
    assert item.attempt == 2
    with sessions() as session:
        rows = {d.alert_id: d for d in session.scalars(select(AlertDelivery))}
    assert rows[ids["dead"]].status == "sent"
    assert {rows[ids[name]].status for name in ("live", "elsewhere")} == {"sending"}
    later = SimulatedClock(wall_now() + timedelta(seconds=settings.alerts.claim_timeout_seconds + 1))
    assert DeliveryWorker(sessions, {"slack": sink}, settings=settings, clock=later).run_once().recovered == 2


def test_a_worker_whose_claim_was_taken_over_does_not_settle_the_row(sessions: sessionmaker[Session]) -> None:
    settings = make_settings()
    clock = SimulatedClock(wall_now())
    add(sessions, settings, detected(new_event(sessions)))
    late_clock = SimulatedClock(clock.now() + timedelta(hours=1))
    rescuer = DeliveryWorker(sessions, {"slack": FakeSink("slack")}, settings=settings, clock=late_clock)

    def stall_then_finish(item: Outgoing) -> Receipt:
        assert rescuer.run_once().sent == 1  # meanwhile another worker presumes us dead and delivers
        return Receipt(external_id="late")

    slow = DeliveryWorker(
        sessions, {"slack": FakeSink("slack").fail(stall_then_finish)}, settings=settings, clock=clock
    )
    report = slow.run_once()
    assert (report.sent, report.lost) == (0, 1)
    [row] = deliveries(sessions).values()
    assert (row.status, row.external_id, row.attempts) == ("sent", "slack-1", 2)


def test_deliveries_for_a_sink_no_longer_configured_are_kept(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings()
    add(sqlite_sessions, settings, detected(new_event(sqlite_sessions)))
    worker = DeliveryWorker(
        sqlite_sessions, {"console": FakeSink()}, settings=settings, clock=SimulatedClock(wall_now())
    )
    assert worker.run_once().skipped == 1
    assert [row.status for row in deliveries(sqlite_sessions).values()] == ["pending"]


def test_a_sink_bug_is_retried_not_fatal_and_retry_after_is_honoured(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings()
    sink: Sink = FakeSink("slack").fail(
        ZeroDivisionError("renderer bug"), DeliveryFailed("429", sink="slack", retry_after=300)
    )
    clock = SimulatedClock(wall_now())
    add(sqlite_sessions, settings, detected(new_event(sqlite_sessions)))
    worker = DeliveryWorker(sqlite_sessions, {"slack": sink}, settings=settings, clock=clock)
    assert worker.run_once().retrying == 1
    [row] = deliveries(sqlite_sessions).values()
    assert "ZeroDivisionError: renderer bug" in (row.last_error or "")
    clock.advance(timedelta(seconds=5))
    worker.run_once()
    [row] = deliveries(sqlite_sessions).values()
    assert row.next_attempt_at == clock.now() + timedelta(seconds=300)
    clock.advance(timedelta(seconds=300))
    assert worker.run_once().sent == 1


def test_a_follow_up_still_finds_the_thread_of_a_card_that_no_longer_parses(
    sqlite_sessions: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = make_settings(slack, charts=False)
    event = new_event(sqlite_sessions)
    [root_id] = add(sqlite_sessions, settings, detected(event))
    worker = DeliveryWorker(
        sqlite_sessions, {"slack": slack_sink(slack, settings)}, settings=settings, clock=SimulatedClock(wall_now())
    )
    worker.run_once()
    with sqlite_sessions.begin() as session:
        session.execute(update(AlertRow).where(AlertRow.id == root_id).values(payload={"stage": "detected"}))
    add(sqlite_sessions, settings, follow_up(event, AlertStage.DAY1))
    assert worker.run_once().sent == 1
    [root] = slack.top_level()
    assert len(slack.thread(None, root["ts"])) == 1
    assert slack.count("chat.update") == 0  # the card cannot be re-rendered, so it is left as it is


def test_deliveries_are_counted_for_prometheus(sqlite_sessions: sessionmaker[Session]) -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    settings = make_settings(routes={"console": {}})
    sent_before = sample("monitor_alerts_sent_total", sink="console", stage="detected")
    failed_before = sample("monitor_alerts_failed_total", sink="slack")
    latency_before = sample("monitor_detection_latency_seconds_count", sink="console")
    add(sqlite_sessions, settings, detected(new_event(sqlite_sessions)))
    slack = FakeSink("slack", always=DeliveryFailed("down", sink="slack"))
    worker = DeliveryWorker(
        sqlite_sessions, {"slack": slack, "console": FakeSink()}, settings=settings, clock=SimulatedClock(wall_now())
    )
    worker.run_once()
    assert sample("monitor_alerts_sent_total", sink="console", stage="detected") == sent_before + 1
    assert sample("monitor_alerts_failed_total", sink="slack") == failed_before + 1
    assert sample("monitor_detection_latency_seconds_count", sink="console") == latency_before + 1
    assert sample("monitor_outbox_pending", sink="slack") == 1
    assert sample("monitor_outbox_pending", sink="console") == 0


def test_a_stored_alert_that_no_longer_parses_goes_dead(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings()
    add(sqlite_sessions, settings, detected(new_event(sqlite_sessions)))
    with sqlite_sessions.begin() as session:
        session.execute(update(AlertRow).values(payload={"stage": "detected", "title": 3}))
    worker = DeliveryWorker(
        sqlite_sessions, {"slack": FakeSink("slack")}, settings=settings, clock=SimulatedClock(wall_now())
    )
    assert worker.run_once().dead == 1


def test_an_outage_longer_than_the_whole_old_retry_schedule_loses_nothing(
    sessions: sessionmaker[Session], slack: FakeSlack
) -> None:
    """Slack answers 500 for two hours (the old schedule gave up after ~21 minutes): the card arrives once after."""
    settings = make_settings(slack, backoff_max_seconds=900, charts=False)  # the old defaults: 8 attempts, 900 s cap
    clock = SimulatedClock(wall_now())
    event = new_event(sessions)
    add(sessions, settings, detected(event), now=clock.now())
    worker = DeliveryWorker(sessions, {"slack": slack_sink(slack, settings)}, settings=settings, clock=clock)
    slack.outage(Fault.server_error(500))
    for _ in range(2 * 60):  # a pass a minute for two simulated hours
        report = worker.run_once()
        assert (report.sent, report.dead) == (0, 0)
        clock.advance(timedelta(minutes=1))
    slack.recover()
    sent = 0
    for _ in range(16):  # the 900 s backoff cap: at most 15 passes a minute apart until the row is due
        sent += worker.run_once().sent
        clock.advance(timedelta(minutes=1))
    assert sent == 1
    assert slack.dedup_keys() == {f"event:{event}:g:all:detected": 1}
    assert {row.status for row in deliveries(sessions).values()} == {"sent"}


def test_a_recovered_sink_brings_its_backlog_forward_and_requeues_its_young_dead_deliveries(
    sessions: sessionmaker[Session],
) -> None:
    settings = make_settings(max_age_hours=24)
    clock = SimulatedClock(datetime(2019, 10, 8, 12, 0, tzinfo=UTC))
    old, young, backlog, fresh = (new_event(sessions, f"2019-4000{n}") for n in range(4))
    add(sessions, settings, detected(old), now=clock.now() - timedelta(hours=30))
    add(sessions, settings, detected(young), now=clock.now() - timedelta(hours=3))
    add(sessions, settings, detected(backlog), now=clock.now() - timedelta(minutes=30))
    with sessions.begin() as session:  # dead (e.g. under the old attempt limit) and one backed off far ahead
        for key, status, attempts, next_at in (
            (f"event:{old}:g:all:detected", "dead", 8, clock.now()),
            (f"event:{young}:g:all:detected", "dead", 8, clock.now()),
            (f"event:{backlog}:g:all:detected", "pending", 5, clock.now() + timedelta(minutes=14)),
        ):
            alert_id = session.scalars(select(AlertRow.id).where(AlertRow.dedup_key == key)).one()
            session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.alert_id == alert_id)
                .values(status=status, attempts=attempts, next_attempt_at=next_at, last_error="HTTP 500")
            )
    add(sessions, settings, detected(fresh), now=clock.now())
    slack = FakeSink("slack")
    worker = DeliveryWorker(sessions, {"slack": slack}, settings=settings, clock=clock)
    assert worker.run_once().sent == 1  # the fresh card: the sink works again
    report = worker.run_once()
    assert report.sent == 2  # the backlog at once, and the young dead card, looked up first
    sent = {item.dedup_key: item for item in slack.sent}
    assert set(sent) == {f"event:{n}:g:all:detected" for n in (fresh, backlog, young)}
    assert sent[f"event:{young}:g:all:detected"].maybe_delivered
    rows = deliveries(sessions)
    assert rows[f"event:{old}:g:all:detected@slack"].status == "dead"  # past the age limit: left to a human
    assert worker.run_once().sent == 0


def test_a_dead_delivery_is_requeued_by_recoveries_at_most_three_times(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings()
    clock = SimulatedClock(wall_now())
    bad = new_event(sqlite_sessions, "2019-50000")
    add(sqlite_sessions, settings, detected(bad), now=clock.now())
    refusing = DeliveryRejected("Slack refused chat.postMessage: invalid_blocks", sink="slack")

    def refuse_bad(item: Outgoing) -> Receipt:
        if item.dedup_key == f"event:{bad}:g:all:detected":
            raise refusing
        return Receipt(external_id=item.dedup_key)

    sink = FakeSink("slack")
    sink.deliver = lambda item, checkpoint: (sink.attempts.append(item), refuse_bad(item))[1]  # type: ignore[method-assign]
    worker = DeliveryWorker(sqlite_sessions, {"slack": sink}, settings=settings, clock=clock)
    assert worker.run_once().dead == 1
    for number in range(6):  # each new card is a success after a failure: a recovery
        add(sqlite_sessions, settings, detected(new_event(sqlite_sessions, f"2019-5100{number}")), now=clock.now())
        worker.run_once()
        worker.run_once()
    tries = [item for item in sink.attempts if item.dedup_key == f"event:{bad}:g:all:detected"]
    assert len(tries) == 4  # the first attempt and three re-drives
    assert deliveries(sqlite_sessions)[f"event:{bad}:g:all:detected@slack"].status == "dead"


def test_a_retry_after_rests_the_whole_sink(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings()
    clock = SimulatedClock(wall_now())
    for number in range(3):
        add(sqlite_sessions, settings, detected(new_event(sqlite_sessions, f"2019-6000{number}")), now=clock.now())
    sink = FakeSink("slack").fail(DeliveryFailed("Slack rate-limited", sink="slack", retry_after=120))
    worker = DeliveryWorker(sqlite_sessions, {"slack": sink}, settings=settings, clock=clock)
    assert (worker.run_once().retrying, len(sink.attempts)) == (1, 1)
    clock.advance(timedelta(seconds=60))
    assert (worker.run_once().skipped, len(sink.attempts)) == (2, 1)  # the others wait out the Retry-After too
    clock.advance(timedelta(seconds=60))
    assert worker.run_once().sent == 3


@pytest.mark.parametrize("threads", [True, False], ids=["threading", "flat"])
def test_a_delayed_card_never_arrives_after_its_own_update(
    sqlite_sessions: sessionmaker[Session], threads: bool
) -> None:
    """An update card (a later arrival named a new security) and the reconcile reply come after the card they
    update on every sink, even when the card's first attempt failed and it is backing off (issue 16, item 8)."""
    settings = make_settings(routes={"console": {}})
    clock = SimulatedClock(wall_now())
    event = new_event(sqlite_sessions)
    card = detected(event)
    update = detected(event, group="update-1")
    add(sqlite_sessions, settings, card, sinks=("console",))
    add(sqlite_sessions, settings, update, sinks=("console",))
    sink = FakeSink("console", threads=threads).fail(DeliveryFailed("HTTP 503", sink="console"))
    worker = DeliveryWorker(sqlite_sessions, {"console": sink}, settings=settings, clock=clock)
    report = worker.run_once()
    assert (report.sent, report.retrying) == (0, 1)
    clock.advance(timedelta(seconds=1))  # the next pass: the card backs off for 5 s, its update is due
    report = worker.run_once()
    assert (report.sent, report.waiting) == (0, 1)
    assert sink.keys() == []
    clock.advance(timedelta(seconds=5))
    report = worker.run_once()
    assert (report.sent, report.waiting) == (2, 0)  # the card, then at once its waiting update
    assert sink.keys() == [card.dedup_key, update.dedup_key]


def test_an_update_does_not_wait_for_a_card_that_died(sqlite_sessions: sessionmaker[Session]) -> None:
    settings = make_settings(routes={"console": {}})
    clock = SimulatedClock(wall_now())
    event = new_event(sqlite_sessions)
    card, update = detected(event), detected(event, group="update-1")
    add(sqlite_sessions, settings, card, update, sinks=("console",))
    sink = FakeSink("console").fail(DeliveryRejected("refused", sink="console"))
    worker = DeliveryWorker(sqlite_sessions, {"console": sink}, settings=settings, clock=clock)
    report = worker.run_once()
    assert (report.dead, report.sent, report.waiting) == (1, 1, 0)  # dead at once, so the update stands alone
    assert sink.keys() == [update.dedup_key]
