"""Secrets never appear in logs, exceptions, stored rows or ``monitor config show``, even while Slack fails.

The tokens here are deliberately not shaped like Slack tokens and are not registered with the log redactor, so a
pass means no code path emits them, not that a pattern happened to mask them.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import DeliveryWorker
from alerts.sink import Outgoing
from alerts.slack import SlackSink
from alerts.webhook import WebhookSink
from monitor.cli import main
from monitor.clock import SimulatedClock
from monitor.config import Settings
from monitor.db.tables.outbox import AlertDelivery, AlertRow
from monitor.errors import MonitorError
from monitor.logs import configure_logging
from monitor.outbox import enqueue
from tests.fakes.alert_samples import detected, make_event
from tests.fakes.slack_server import FakeSlack, Fault

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

BOT_TOKEN = "bot-token-sekrit-5d1e77a0"
HOOK_SECRET = "hook-secret-sekrit-93bb"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG)
    yield stream
    configure_logging("INFO", "kv")


def test_a_failing_slack_never_leaks_the_token(
    sqlite_sessions: sessionmaker[Session], logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeSlack(token=BOT_TOKEN) as slack:
        settings = Settings(slack=slack.settings(), webhook={"url": "http://127.0.0.1:9/h", "secret": HOOK_SECRET})
        slack.fail("chat.postMessage", Fault.server_error(500), Fault.drop_before(), Fault.slack_error("invalid_auth"))
        slack.fail("conversations.history", Fault.server_error(503))
        sink = SlackSink.from_settings(settings, interval=FixedValueRetryIntervalCalculator(0.01), retry_pause=0.01)
        webhook = WebhookSink.from_settings(settings)
        with sqlite_sessions.begin() as session:
            enqueue(session, detected(make_event(session)), settings=settings, now=datetime.now(UTC))
        worker = DeliveryWorker(
            sqlite_sessions,
            {"slack": sink, "webhook": webhook},
            settings=settings,
            clock=SimulatedClock(datetime.now(UTC)),
        )
        report = worker.run_once()
        assert report.dead == 1  # invalid_auth: refused for good
        assert report.retrying == 1  # the webhook endpoint is down

        failures: list[str] = []
        for failing_sink, script in ((sink, Fault.server_error(500)), (webhook, None)):
            if script is not None:
                slack.fail("chat.postMessage", *[script] * 3)
                slack.fail("conversations.history", *[script] * 9)
            item = Outgoing(1, 1, "k", failing_sink.name, detected(1), 1, False, datetime.now(UTC))
            with pytest.raises(MonitorError) as raised:
                failing_sink.deliver(item, lambda done: None)
            failures.append("".join(traceback.format_exception(raised.value)) + repr(raised.value))

    with sqlite_sessions() as session:
        stored = json.dumps(
            [
                [d.last_error, d.receipt, d.routing, a.payload]
                for a, d in session.execute(select(AlertRow, AlertDelivery).join(AlertDelivery))
            ]
        )
    monkeypatch.setenv("MONITOR_SLACK__BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("MONITOR_WEBHOOK__SECRET", HOOK_SECRET)
    shown = [_run(["config", "show"]), _run(["config", "show", "--json"])]

    everything = "\n".join([logs.getvalue(), stored, *failures, *shown])
    assert "invalid_auth" in logs.getvalue()  # the failures were logged...
    assert "Sending a request" in logs.getvalue()  # ...with slack-sdk's own debug lines
    assert "******** (set)" in shown[0]
    for secret in (BOT_TOKEN, HOOK_SECRET):
        assert secret not in everything


def _run(argv: list[str]) -> str:
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    return out.getvalue() + err.getvalue()
