"""Crash safety, for real: a worker process is SIGKILLed mid-delivery and a fresh worker finishes the job.

Killing the process between Slack's answer and our commit must lose nothing and, on restart, send nothing twice
where Slack had answered. The worker runs in a subprocess (``tests/alerts/crash_worker.py``) against a real
database and the fake Slack server; the kill lands at an exact point, right after the named call returned.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import DeliveryWorker
from alerts.slack import SlackSink
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.models import AlertStage
from monitor.outbox import enqueue
from tests.fakes.alert_samples import detected, follow_up, make_event
from tests.fakes.slack_server import FakeSlack

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def queue_rule(sessions: sessionmaker[Session], settings: Settings) -> tuple[str, str]:
    with sessions.begin() as session:
        event = make_event(session)
        now = datetime.now(UTC)
        root = enqueue(session, detected(event), settings=settings, now=now)
        reply = enqueue(session, follow_up(event, AlertStage.DAY1), settings=settings, now=now)
    return root.dedup_key, reply.dedup_key


def run_and_kill(engine: Engine, slack: FakeSlack, kill_after: str, kill_key: str) -> None:
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "tests.alerts.crash_worker", "--database-url", url]
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            command += ["--schema", str(connection.execute(text("SELECT current_schema()")).scalar_one())]
    command += ["--slack-url", slack.base_url, "--token", slack.token, "--channel", slack.channel]
    command += ["--kill-after", kill_after, "--kill-key", kill_key]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == -9, result.stdout + result.stderr  # SIGKILL, at the chosen point


def recover_and_check(
    sessions: sessionmaker[Session], slack: FakeSlack, settings: Settings, keys: tuple[str, str]
) -> None:
    sink = SlackSink.from_settings(settings, interval=FixedValueRetryIntervalCalculator(0.01), retry_pause=0.01)
    clock = SimulatedClock(datetime.now(UTC) + timedelta(seconds=settings.alerts.claim_timeout_seconds + 1))
    worker = DeliveryWorker(sessions, {"slack": sink}, settings=settings, clock=clock)
    for _ in range(3):
        worker.run_once()
    root_key, reply_key = keys
    assert slack.dedup_keys() == {root_key: 1, reply_key: 1}  # nothing lost, nothing twice
    [root] = slack.top_level()
    thread = slack.thread(None, root["ts"])
    assert [m["metadata"]["event_payload"]["dedup_key"] for m in thread if "metadata" in m] == [reply_key]
    assert sum(len(m.get("files", [])) for m in thread) == 1  # exactly one chart, in the thread
    with sessions() as session:
        rows = {key: d for key, d in session.execute(select(AlertRow.dedup_key, AlertDelivery).join(AlertDelivery))}
    assert {d.status for d in rows.values()} == {"sent"}
    assert rows[root_key].external_id == root["ts"]
    assert rows[reply_key].thread_ref == root["ts"]
    assert rows[reply_key].external_id == thread[0]["ts"]


def test_killed_after_slack_answered_and_before_the_commit(engine: Engine, slack: FakeSlack) -> None:
    settings = Settings(slack=slack.settings())
    sessions = session_factory(engine)
    keys = queue_rule(sessions, settings)
    run_and_kill(engine, slack, "chat.postMessage", keys[0])
    with sessions() as session:
        [pending_root] = [d for d in session.scalars(select(AlertDelivery)) if d.status == "sending"]
    assert set(pending_root.receipt) == {"post_sent_at"}  # the post was marked as sent; Slack's answer was lost
    assert slack.dedup_keys() == {keys[0]: 1}
    recover_and_check(sessions, slack, settings, keys)
    assert slack.count("chat.postMessage") == 2  # the root once (before the crash) and the reply once


@pytest.mark.parametrize(
    ("kill_after", "target"),
    [
        ("claim", 0),  # claimed, nothing sent yet
        ("chat.postMessage", 1),  # the reply posted in the thread, not committed
        ("files_upload_v2", 1),  # the chart shared in the thread, not committed
        ("deliver", 1),  # every step done, the outcome not committed
    ],
)
def test_killed_at_each_step_of_a_rule_and_its_follow_up(
    tmp_path: Path, slack: FakeSlack, kill_after: str, target: int
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crash.db'}")
    upgrade(engine)
    settings = Settings(slack=slack.settings())
    sessions = session_factory(engine)
    keys = queue_rule(sessions, settings)
    run_and_kill(engine, slack, kill_after, keys[target])
    recover_and_check(sessions, slack, settings, keys)
    engine.dispose()


def test_a_restart_takes_over_a_killed_workers_claim_at_once(engine: Engine, slack: FakeSlack) -> None:
    """Killed right after Slack took the card and before our commit: a worker started at once (no time has passed,
    far inside ``alerts.claim_timeout_seconds``) sees that the claim's owner is dead, takes the claim over on its
    first pass, finds the card Slack already has instead of posting it again, and sends the follow-up: each once."""
    settings = Settings(slack=slack.settings())
    sessions = session_factory(engine)
    keys = queue_rule(sessions, settings)
    run_and_kill(engine, slack, "chat.postMessage", keys[0])
    sink = SlackSink.from_settings(settings, interval=FixedValueRetryIntervalCalculator(0.01), retry_pause=0.01)
    worker = DeliveryWorker(sessions, {"slack": sink}, settings=settings, clock=SimulatedClock(datetime.now(UTC)))
    report = worker.run_once()
    assert (report.recovered, report.sent) == (1, 2)
    assert slack.dedup_keys() == {keys[0]: 1, keys[1]: 1}
    assert slack.count("chat.postMessage") == 2  # the card before the kill, the follow-up after it
    with sessions() as session:
        assert {d.status for d in session.scalars(select(AlertDelivery))} == {"sent"}
