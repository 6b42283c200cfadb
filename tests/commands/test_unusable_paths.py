"""Paths and databases the system refuses: one line, the documented exit code, never a traceback (issue 16 item 8).

Exit codes (README, deploy/README.md): 2 for an argument or setting the user must fix, 3 when the database or its
data directory cannot be used. ``/proc`` refuses to create anything, even for root; a SQLite database opened with
``mode=ro`` fails its first write exactly as a read-only file or data directory does (``attempt to write a readonly
database``), and that stays true when the tests run as root, where permission bits would not stop a write.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration  # the real CLI on an embedded database


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("monitor: error:")]


def test_demo_out_where_nothing_can_be_created(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "demo", "--out", "/proc/x")
    assert code == 2
    assert error_lines(err) == ["monitor: error: --out /proc/x: cannot write there (No such file or directory)"]


def test_demo_out_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    taken = tmp_path / "report"
    taken.write_text("not a directory", encoding="utf-8")
    code, err = run(capsys, "demo", "--out", str(taken))
    assert code == 2  # typer's own usage error: --out takes a directory
    assert "is a file" in err


@pytest.mark.parametrize("argv", [["match", "Hikvision"], ["db", "upgrade"], ["universe", "list"]])
def test_a_data_directory_that_cannot_be_created(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("MONITOR_DATA_DIR", "/proc/x")
    code, err = run(capsys, *argv)
    assert code == 3
    assert error_lines(err) == [
        "monitor: error: cannot create the data directory /proc/x: No such file or directory (set MONITOR_DATA_DIR)"
    ]


def test_run_once_in_a_data_directory_that_cannot_be_created(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_DATA_DIR", "/proc/x")
    code, err = run(capsys, "run", "--once")
    assert code == 3
    assert error_lines(err) == [
        "monitor: error: cannot create the instance lock /proc/x/monitor.db.run.lock: No such file or directory"
    ]


@pytest.fixture
def read_only_database(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A migrated, seeded embedded database, then opened read-only."""
    assert main(["universe", "seed"]) == 0
    capsys.readouterr()
    database = tmp_path / "data" / "monitor.db"  # MONITOR_DATA_DIR, set for every test
    assert database.exists()
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///file:{database}?mode=ro&uri=true")
    monkeypatch.setenv("MONITOR_HTTP__ADDRESS", "127.0.0.1:0")
    return database


def test_run_once_on_a_read_only_database(capsys: pytest.CaptureFixture[str], read_only_database: Path) -> None:
    code, err = run(capsys, "run", "--once")
    assert code == 3
    [line] = error_lines(err)
    assert line.startswith("monitor: error: cannot write to sqlite:///")
    assert line.endswith("attempt to write a readonly database (is the database or its directory read-only?)")
    assert "FAIL database: cannot write to" in err


def test_a_write_to_a_read_only_database_mid_command(
    capsys: pytest.CaptureFixture[str], read_only_database: Path
) -> None:
    code, err = run(capsys, "universe", "import", str(SHARED_DATA / "matching" / "universe_seed.csv"))
    assert code == 3
    assert error_lines(err) == ["monitor: error: database: attempt to write a readonly database"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits; the mode=ro tests cover it")
def test_run_once_in_a_read_only_data_directory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    data = tmp_path / "data"
    for path in (*data.iterdir(), data):
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    monkeypatch.setenv("MONITOR_HTTP__ADDRESS", "127.0.0.1:0")
    try:
        code, err = run(capsys, "run", "--once")
    finally:
        data.chmod(0o755)
    assert code == 3
    assert len(error_lines(err)) == 1
