"""Ctrl-C during ``monitor backfill`` (a real SIGINT to a real process), then a rerun: the same database as one
uninterrupted run, table by table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.backfill import BackfillRequest, load_overrides
from tests.backfill.conftest import FEEDS, SINCE, UNTIL, Snapshot, fresh_sqlite, runner, settings_for
from tests.backfill.dbcompare import differences, snapshot

pytestmark = pytest.mark.integration  # local HTTP servers or subprocesses

TIMEOUT = 60.0


def _start(data_dir: Path, prices: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MONITOR_DATA_DIR": str(data_dir),
        "MONITOR_STUDY__PLACEBO_DRAWS": "100",  # as settings_for(), so the runs are comparable
        "MONITOR_LOG__LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "monitor", "backfill", "--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]
    command += ["--source", f"dir:{FEEDS}", "--prices", f"dir:{prices}", "--json"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _interrupt_when(process: subprocess.Popen[str], marker: str, signals: int) -> tuple[int, str]:
    """Read the log until ``marker``, send SIGINT ``signals`` times, and return the exit code and the rest of stderr."""
    assert process.stderr is not None
    deadline = time.monotonic() + TIMEOUT
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line)
        if marker in line:
            for _ in range(signals):
                process.send_signal(signal.SIGINT)
                time.sleep(0.05)
            break
        assert time.monotonic() < deadline, "the backfill never reached the point to interrupt"
    else:
        raise AssertionError(f"the backfill ended before {marker!r}:\n{''.join(seen[-20:])}")
    _, rest = process.communicate(timeout=TIMEOUT)
    return process.returncode, "".join(seen) + rest


def _resume_and_compare(data_dir: Path, prices: Path, baseline: Snapshot) -> None:
    engine, sessions = fresh_sqlite(data_dir / "monitor.db")  # the database the command used
    summary = runner(sessions, settings_for(data_dir), prices=prices).run(
        BackfillRequest(SINCE, UNTIL, overrides=load_overrides())
    )
    assert summary.ok
    assert differences(baseline, snapshot(engine)) == []


def test_ctrl_c_stops_after_the_current_rule_and_a_rerun_completes(
    tmp_path: Path, trimmed_prices: Path, baseline: Snapshot
) -> None:
    process = _start(tmp_path, trimmed_prices)
    code, stderr = _interrupt_when(process, "event='document_processed'", signals=1)
    assert code == 130, stderr[-2000:]
    assert "stopping after the current step" in stderr
    assert "backfill_interrupted" in stderr
    _resume_and_compare(tmp_path, trimmed_prices, baseline)
