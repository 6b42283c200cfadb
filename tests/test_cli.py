"""The command line: help, version, config show, db upgrade/status, and one-line errors with exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.cli import main
from monitor.db.engine import make_engine
from tests.conftest import postgres_schema

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("monitor (entity-list-monitor) ")


def test_help_lists_the_command_groups(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("config", "db", "--config", "--version"):
        assert word in out


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "entity-list-monitor" in result.stdout


def test_config_show_masks_secrets_and_names_sources(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_SLACK__BOT_TOKEN", "xoxb-cli-secret-42")
    code, out, err = run(capsys, "--log-level", "debug", "config", "show", "--json")
    assert code == 0
    assert "xoxb-cli-secret-42" not in out + err
    rows = {row["key"]: row for row in json.loads(out)}
    assert rows["slack.bot_token"] == {
        "key": "slack.bot_token",
        "value": "******** (set)",
        "source": "env MONITOR_SLACK__BOT_TOKEN",
    }
    assert rows["log.level"]["source"] == "command line"
    assert rows["poll.documents_seconds"]["source"] == "default"


def test_config_show_masks_credentials_in_urls_and_errors_never_echo_values(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "MONITOR_WEBHOOK__URL", "https://ops:hunter2@hooks.slack.com/services/T01/B02/q1w2e3r4t5y6u7i8o9p0"
    )
    code, out, err = run(capsys, "config", "show", "--json")
    assert code == 0, err
    rows = {row["key"]: row["value"] for row in json.loads(out)}
    assert rows["webhook.url"] == "https://********@hooks.slack.com/services/********/********/********"
    code, out, err = run(capsys, "config", "show")
    assert code == 0, err
    for secret in ("hunter2", "q1w2e3r4t5y6u7i8o9p0", "T01/B02"):
        assert secret not in out + err

    monkeypatch.setenv("MONITOR_POLL__OUTBOX_SECONDS", "xoxb-77-wrong-variable")
    code, out, err = run(capsys, "config", "show")
    assert code == 2
    assert err.strip().startswith("monitor: error: poll.outbox_seconds (MONITOR_POLL__OUTBOX_SECONDS)")
    assert "xoxb" not in out + err


def test_config_show_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text("[poll]\ncsl_hours = 6\n")
    code, out, _ = run(capsys, "--config", str(config), "config", "show")
    assert code == 0
    assert "poll.csl_hours" in out
    assert "6.0" in out


def test_db_upgrade_creates_the_embedded_database_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0
    assert "upgraded from empty to" in out
    assert (tmp_path / "data" / "monitor.db").exists()
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0
    assert "nothing to do" in out
    code, out, _ = run(capsys, "db", "status")
    assert code == 0
    assert "up to date" in out


def test_db_status_reports_pending_migrations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "status")
    assert code == 1
    assert "migrations pending" in out


def test_db_upgrade_on_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    """On a schema of its own (search_path in the URL, as an operator would pin one): CREATE DATABASE copies the
    template and takes up to a minute on a busy machine; what is tested is the command, not the server."""
    with postgres_schema(migrated=False) as target:
        try:
            os.environ["MONITOR_DATABASE_URL"] = target
            code, out, _ = run(capsys, "db", "upgrade")
            assert code == 0, out
            assert "upgraded from empty to" in out
            code, out, _ = run(capsys, "db", "upgrade")
            assert "nothing to do" in out
        finally:
            del os.environ["MONITOR_DATABASE_URL"]
        engine = make_engine(target)
        with engine.connect() as connection:
            tables = connection.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")
            ).scalar_one()
        engine.dispose()
    assert tables > 10  # the schema named in the URL got the tables, not public


@pytest.mark.parametrize(
    ("argv", "env", "code", "expected"),
    [
        (["--database-url", "postgresql+psycopg://u:pw-77@127.0.0.1:1/x", "db", "status"], {}, 3, "cannot connect to"),
        (["db", "upgrade"], {"MONITOR_DATABASE_URL": "mysql://x"}, 2, "MONITOR_DATABASE_URL"),
        (["--config", "/nonexistent/monitor.toml", "config", "show"], {}, 2, "cannot read config file"),
        (["config", "show"], {"MONITOR_POLL__DOCUMENTS_SECONDS": "soon"}, 2, "MONITOR_POLL__DOCUMENTS_SECONDS"),
    ],
)
def test_errors_are_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
    code: int,
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result, out, err = run(capsys, *argv)
    assert result == code
    error_lines = [line for line in err.splitlines() if line.startswith("monitor: error:")]
    assert len(error_lines) == 1
    assert expected in error_lines[0]
    assert "Traceback" not in err
    assert "pw-77" not in err + out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    assert "No such command" in err
