"""Start-up checks: one line each; refuse only what would make running wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.slack import make_client
from jobs.checks import calendars_check, database_check, slack_check, universe_check
from monitor.bootstrap import AppContext
from monitor.config import Settings
from monitor.db.tables import SecurityRow
from monitor.errors import ConfigError, DatabaseNotMigrated
from monitor.prices.calendars import Calendars
from tests.conftest import postgres_schema
from tests.e2e.harness import free_port
from tests.fakes.slack_server import FakeSlack

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


def test_the_embedded_database_is_upgraded(tmp_path: Path) -> None:
    context = AppContext(cli_overrides={"data_dir": tmp_path})
    try:
        result = database_check(context.engine)
    finally:
        context.close()
    assert result.level == "ok"
    assert result.line.startswith(f"database: sqlite:///{tmp_path}/monitor.db reachable, schema at revision ")


def test_an_unmigrated_postgresql_database_is_refused() -> None:
    with postgres_schema(migrated=False) as url:
        context = AppContext(cli_overrides={"database_url": url})
        try:
            result = database_check(context.engine)
        finally:
            context.close()
    assert result.level == "fail"
    assert isinstance(result.error, DatabaseNotMigrated)
    assert "run `monitor db upgrade`" in result.detail


def test_an_unreachable_database_is_refused() -> None:
    context = AppContext(cli_overrides={"database_url": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x"})
    try:
        result = database_check(context.engine)
    finally:
        context.close()
    assert result.level == "fail"
    assert result.detail.startswith("cannot connect to postgresql+psycopg://nobody@127.0.0.1")
    assert result.error is not None
    assert result.error.exit_code == 3


def test_an_empty_universe_is_seeded_once(sessions: sessionmaker[Session]) -> None:
    first = universe_check(sessions)
    assert first.level == "ok"
    assert first.detail.endswith("(seeded from the shipped seed)")
    second = universe_check(sessions)
    assert second.detail.endswith("(loaded)")
    with sessions() as session:
        count = session.execute(select(func.count()).select_from(SecurityRow)).scalar_one()
    assert second.detail.startswith(f"{count} securities and ")


def test_shanghai_running_out_is_a_warning_not_a_refusal() -> None:
    """XSHG's holidays end 2026-12-31 in exchange-calendars, 2027-12-31 with the provisional year: a warning
    within 60 days of the latter only."""
    calendars = Calendars(start=date(2026, 1, 1), today=date(2026, 11, 21))
    checks = calendars_check(calendars, datetime(2027, 11, 21, 12, tzinfo=UTC), warn_days=60)
    assert [(c.name, c.level) for c in checks] == [("calendar XSHG", "warn")]
    assert "holiday_overrides" in checks[0].detail
    fine = calendars_check(calendars, datetime(2026, 11, 21, tzinfo=UTC), warn_days=60)
    assert [c.level for c in fine] == ["ok"]


def test_slack_not_configured_means_console() -> None:
    result = slack_check(Settings(), make_client)
    assert (result.level, result.detail) == ("ok", "not configured: alerts go to the console")


def test_slack_auth_test_names_the_bot_and_channel() -> None:
    with FakeSlack() as slack:
        result = slack_check(Settings(slack=slack.settings()), make_client)
        assert slack.count("auth.test") == 1
    assert result.level == "ok"
    assert result.detail == "authenticated as entity-list-monitor in Test Trading Desk; posting to channel C0TESTCHAN1"


def test_a_refused_token_stops_the_daemon() -> None:
    with FakeSlack() as slack:
        result = slack_check(Settings(slack=slack.settings(bot_token="xoxb-wrong-token")), make_client)
    assert result.level == "fail"
    assert isinstance(result.error, ConfigError)
    assert result.detail == (
        "slack.bot_token: Slack refused the bot token (invalid_auth); check MONITOR_SLACK__BOT_TOKEN"
    )
    assert "xoxb-wrong" not in result.detail


def test_an_unreachable_slack_is_a_warning() -> None:
    settings = Settings(
        slack={"bot_token": "xoxb-1", "channel": "C1", "base_url": f"http://127.0.0.1:{free_port()}/api/"},
        network={"timeout_seconds": 1},
    )
    result = slack_check(settings, make_client)
    assert result.level == "warn"
    assert "alerts wait in the outbox" in result.detail
