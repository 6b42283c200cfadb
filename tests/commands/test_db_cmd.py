"""``monitor db upgrade|status --json``: one JSON object alone on stdout, the same exit codes as the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.db.engine import make_engine
from monitor.db.migrate import upgrade

pytestmark = pytest.mark.integration  # the CLI end to end on a SQLite file

VERSIONS = Path(__file__).resolve().parents[2] / "monitor" / "db" / "migrations" / "versions"
# The newest shipped migration, named by its file (every revision after the first is spelled as its file's stem).
HEAD = sorted(VERSIONS.glob("0*.py"))[-1].stem


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_upgrade_json_says_what_it_did_then_that_nothing_was_left(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    database = tmp_path / "data" / "monitor.db"
    code, out, _ = run(capsys, "db", "upgrade", "--json")
    assert code == 0
    assert json.loads(out) == {
        "database": f"sqlite:///{database}",
        "dialect": "sqlite",
        "before": None,
        "after": HEAD,
        "upgraded": True,
    }
    code, out, _ = run(capsys, "db", "upgrade", "--json")
    assert code == 0
    assert json.loads(out) == {
        "database": f"sqlite:///{database}",
        "dialect": "sqlite",
        "before": HEAD,
        "after": HEAD,
        "upgraded": False,
    }


def test_upgrade_json_from_an_older_revision(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    upgrade(engine, "0001")
    engine.dispose()
    code, out, _ = run(capsys, "db", "upgrade", "--json")
    assert code == 0
    body = json.loads(out)
    assert (body["before"], body["after"], body["upgraded"]) == ("0001", HEAD, True)


def test_status_json_when_up_to_date_pending_and_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    database = tmp_path / "data" / "monitor.db"
    code, out, err = run(capsys, "db", "status", "--json")
    assert code == 1  # migrations pending: the same exit code as the text, the answer still on stdout
    assert json.loads(out) == {
        "database": f"sqlite:///{database}",
        "dialect": "sqlite",
        "revision": None,
        "head": HEAD,
        "up_to_date": False,
    }
    assert err == ""

    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine, "0002_universe_listing_dates")
    engine.dispose()
    code, out, _ = run(capsys, "db", "status", "--json")
    assert code == 1
    assert json.loads(out)["revision"] == "0002_universe_listing_dates"

    assert run(capsys, "db", "upgrade")[0] == 0
    code, out, _ = run(capsys, "db", "status", "--json")
    assert code == 0
    body = json.loads(out)
    assert (body["revision"], body["up_to_date"]) == (HEAD, True)


def test_status_json_error_goes_to_stderr_with_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "--database-url", "postgresql+psycopg://u:pw-9@127.0.0.1:1/x", "db", "status", "--json"
    )
    assert code == 3
    assert out == ""
    assert err.startswith("monitor: error: cannot connect to postgresql+psycopg://u:***@127.0.0.1:1/x")
