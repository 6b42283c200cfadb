"""``monitor alerts test|list|retry|deliver`` end to end: the CLI, the embedded database and the fake Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.config import Settings
from monitor.db.engine import make_engine, session_factory
from monitor.db.migrate import upgrade
from monitor.db.tables.outbox import AlertDelivery
from monitor.models import AlertStage
from monitor.outbox import enqueue
from tests.fakes.alert_samples import detected, follow_up, make_event
from tests.fakes.slack_server import FakeSlack, Fault

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        for key, value in server.settings().items():
            monkeypatch.setenv(f"MONITOR_SLACK__{key.upper()}", str(value))
        monkeypatch.setenv("MONITOR_ALERTS__CHARTS", "false")
        yield server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def queue_rule(data_dir: Path, settings: Settings | None = None) -> None:
    """The card and a day-0 follow-up queued for the sinks of ``settings`` (Slack by default)."""
    engine = make_engine(f"sqlite:///{data_dir / 'monitor.db'}")
    upgrade(engine)
    settings = settings or Settings(slack={"bot_token": "xoxb-x", "channel": "C0TESTCHAN1"})
    with session_factory(engine).begin() as session:
        event = make_event(session)
        now = datetime.now(UTC)
        enqueue(session, detected(event), settings=settings, now=now)
        enqueue(session, follow_up(event, AlertStage.DAY0), settings=settings, now=now)
    engine.dispose()


def deliveries(data_dir: Path) -> list[AlertDelivery]:
    engine = make_engine(f"sqlite:///{data_dir / 'monitor.db'}")
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))
    engine.dispose()
    return rows


def test_alerts_test_reports_what_each_sink_answered(capsys: pytest.CaptureFixture[str], slack: FakeSlack) -> None:
    code, out, _ = run(capsys, "alerts", "test", "--json")
    assert code == 0
    [result] = json.loads(out)
    assert result["sink"] == "slack"
    assert result["ok"] is True
    assert f"in {slack.channel} as entity-list-monitor (Test Trading Desk" in result["answer"]
    assert slack.count("auth.test") == 1
    assert slack.messages()[0]["text"].startswith("Test message from entity-list-monitor")


def test_alerts_test_fails_with_the_reason_and_no_token(
    capsys: pytest.CaptureFixture[str], slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_SLACK__BOT_TOKEN", "xoxb-revoked-cli-token-31")
    monkeypatch.setenv("MONITOR_WEBHOOK__URL", "http://127.0.0.1:9/hook")
    code, out, err = run(capsys, "alerts", "test")
    assert code == 1
    assert "invalid_auth" in out
    assert "unreachable" in out  # the webhook, in its own row
    assert "xoxb-revoked-cli-token-31" not in out + err


def test_console_is_the_default_sink(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "alerts", "test")
    assert code == 0
    assert "console" in out
    assert "printed to the terminal" in out


def test_deliver_list_and_retry(capsys: pytest.CaptureFixture[str], slack: FakeSlack, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    queue_rule(data_dir)
    slack.fail("chat.postMessage", Fault.slack_error("not_in_channel"), Fault.slack_error("not_in_channel"))
    code, out, err = run(capsys, "alerts", "deliver")
    assert code == 0
    assert "sent 0, retrying 0, dead 2" in out  # the follow-up of a dead root stands on its own, and is refused too
    assert "operator_alert" in out + err  # Slack is the only sink: the operator hears in the log
    code, out, _ = run(capsys, "alerts", "list", "--status", "dead", "--json")
    dead = {row["stage"]: row for row in json.loads(out)}
    assert set(dead) == {"detected", "day0"}
    assert "not_in_channel" in dead["detected"]["last_error"]

    code, out, _ = run(capsys, "alerts", "retry", str(dead["detected"]["id"]))
    assert code == 0
    assert "is queued again" in out
    code, out, _ = run(capsys, "alerts", "deliver")
    assert "sent 1" in out  # the root; Slack works again, so its other dead delivery is queued again by itself
    code, out, _ = run(capsys, "alerts", "deliver")
    assert "sent 1" in out
    assert slack.dedup_keys() == {"event:1:g:all:detected": 1, "event:1:g:all:day0": 1}
    assert {row.status for row in deliveries(data_dir)} == {"sent"}
    dead = {"detected": dead["detected"]}

    code, out, _ = run(capsys, "alerts", "list")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()[2:]]  # piped: "# title", header, then one row per delivery
    assert [(row[1], row[3]) for row in rows] == [("event:1:g:all:day0", "sent"), ("event:1:g:all:detected", "sent")]
    code, _, err = run(capsys, "alerts", "retry", str(dead["detected"]["id"]))
    assert code == 2
    assert "is not sent twice" in err
    code, _, err = run(capsys, "alerts", "retry", "999")
    assert code == 2
    assert "no alert delivery with ID 999" in err
    code, out, _ = run(capsys, "alerts", "list", "--status", "pending")
    assert "no alert deliveries with status pending" in out


def test_the_status_choices_are_the_alert_statuses() -> None:
    """``--status`` spells the statuses out so ``--help`` need not import pydantic; they must not drift."""
    from monitor.commands.alerts_cmd import Status
    from monitor.models import AlertStatus

    assert [status.value for status in Status] == [status.value for status in AlertStatus]


def test_deliver_and_retry_json(capsys: pytest.CaptureFixture[str], slack: FakeSlack, tmp_path: Path) -> None:
    """``--json``: the pass's counts and the deliveries queued again, alone on stdout, times with their offset."""
    data_dir = tmp_path / "data"
    queue_rule(data_dir)
    slack.fail("chat.postMessage", Fault.slack_error("not_in_channel"), Fault.slack_error("not_in_channel"))
    code, out, _ = run(capsys, "alerts", "deliver", "--json")
    assert code == 0
    assert json.loads(out) == {
        "sent": 0, "retrying": 0, "dead": 2, "waiting": 0, "recovered": 0, "skipped": 0, "lost": 0,
    }  # fmt: skip

    [detected, day0] = deliveries(data_dir)  # in the order they were queued
    code, out, err = run(capsys, "alerts", "retry", str(day0.id), "999", "--json")
    assert (code, out) == (2, "")  # one unknown ID: nothing queued again, the error alone on stderr
    assert "no alert delivery with ID 999" in err
    assert [row.status for row in deliveries(data_dir)] == ["dead", "dead"]
    before = datetime.now(UTC)
    code, out, _ = run(capsys, "alerts", "retry", str(day0.id), str(detected.id), "--json")
    assert code == 0
    views = json.loads(out)
    assert [(v["id"], v["dedup_key"], v["sink"], v["status"], v["attempts"]) for v in views] == [
        (day0.id, "event:1:g:all:day0", "slack", "pending", 0),
        (detected.id, "event:1:g:all:detected", "slack", "pending", 0),
    ]
    for view in views:
        due = datetime.fromisoformat(view["next_attempt_at"])  # ISO 8601 with its offset: aware, due now
        assert due.utcoffset() is not None
        assert before <= due <= datetime.now(UTC)
        assert view["sent_at"] is None
        assert "not_in_channel" in view["last_error"]

    code, out, _ = run(capsys, "alerts", "deliver", "--json")
    assert code == 0
    assert json.loads(out) == {
        "sent": 2, "retrying": 0, "dead": 0, "waiting": 0, "recovered": 0, "skipped": 0, "lost": 0,
    }  # fmt: skip
    code, out, _ = run(capsys, "alerts", "list", "--json")
    for row in json.loads(out):
        assert row["status"] == "sent"
        assert datetime.fromisoformat(row["sent_at"]).utcoffset() is not None

    code, out, err = run(capsys, "alerts", "retry", str(detected.id), "--json")
    assert code == 2  # refused as without --json: one line on stderr, nothing on stdout
    assert out == ""
    assert "is not sent twice" in err


def test_deliver_json_keeps_the_console_sinks_alerts_off_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    queue_rule(tmp_path / "data", Settings())  # no Slack token: alerts go to the console sink
    code, out, err = run(capsys, "alerts", "deliver", "--json")
    assert code == 0
    assert json.loads(out)["sent"] == 2
    assert "Addition of Certain Entities" in err  # the card, printed where a person watching still sees it
