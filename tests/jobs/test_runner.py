"""Every job run goes through the runner: leases, the stop flag, metrics, and no exception escapes."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from jobs.leasing import LeaseKeeper
from jobs.runner import JobResult, JobRunner, JobSpec, StopRequested
from monitor import metrics
from monitor.clock import SystemClock
from monitor.db import leases
from monitor.errors import FeedUnavailable

Sessions = sessionmaker[Session]


def runs(job: str, outcome: str) -> float:
    return float(metrics.REGISTRY.get_sample_value("monitor_job_runs_total", {"job": job, "outcome": outcome}) or 0)


def runner_for(sessions: Sessions, stop: threading.Event | None = None) -> JobRunner:
    return JobRunner(LeaseKeeper(sessions, ttl=timedelta(seconds=30)), stop or threading.Event())


def test_outcomes_are_counted_and_nothing_escapes(sessions: Sessions) -> None:
    runner = runner_for(sessions)
    before = {o: runs("t_outcomes", o) for o in ("ok", "failed")}

    def feed_down() -> JobResult:
        raise FeedUnavailable("federal_register: HTTP 500", url="https://fr.test")

    def bug() -> JobResult:
        raise KeyError("a bug")

    assert runner.run(JobSpec("t_outcomes", lambda: JobResult({"n": 1}, noteworthy=True))) == "ok"
    assert runner.run(JobSpec("t_outcomes", feed_down)) == "failed"
    record = runner.last["t_outcomes"]
    assert isinstance(record.error, FeedUnavailable)
    assert runner.run(JobSpec("t_outcomes", bug)) == "failed"
    assert runner.last["t_outcomes"].error is None
    assert "KeyError" in runner.last["t_outcomes"].detail
    assert runs("t_outcomes", "ok") == before["ok"] + 1
    assert runs("t_outcomes", "failed") == before["failed"] + 2


def test_a_lease_held_elsewhere_skips_the_run(sessions: Sessions) -> None:
    runner = runner_for(sessions)
    other = leases.acquire(sessions, "t_lease", "elsewhere:1:x", ttl=timedelta(minutes=1), now=SystemClock().now())
    assert other is not None
    called: list[int] = []
    spec = JobSpec("t_lease", lambda: called.append(1) or JobResult(), lease="t_lease")
    assert runner.run(spec) == "skipped"
    assert called == []
    leases.release(sessions, other)
    assert runner.run(spec) == "ok"
    assert called == [1]


def test_a_cooldown_keeps_other_replicas_off_for_a_while(sessions: Sessions) -> None:
    mine, theirs = runner_for(sessions), runner_for(sessions)
    spec = JobSpec("t_turns", JobResult, lease="t_turns", cooldown=lambda: timedelta(seconds=30))
    assert mine.run(spec) == "ok"
    assert theirs.run(spec) == "skipped"  # it just ran: no need to repeat it a second later
    assert mine.run(spec) == "ok"  # the holder may run it again on its own schedule


def test_stopping_skips_new_runs_and_abandons_running_ones(sessions: Sessions) -> None:
    stop = threading.Event()
    runner = runner_for(sessions, stop)

    def long_loop() -> JobResult:
        stop.set()
        raise StopRequested("stopping")

    assert runner.run(JobSpec("t_stop", long_loop)) == "abandoned"
    assert runner.run(JobSpec("t_stop", JobResult)) == "skipped"
    assert runner.last["t_stop"].detail == "stopping"


def test_wait_idle_reports_jobs_still_running(sessions: Sessions) -> None:
    runner = runner_for(sessions)
    release = threading.Event()
    started = threading.Event()

    def slow() -> JobResult:
        started.set()
        release.wait(5)
        return JobResult()

    thread = threading.Thread(target=runner.run, args=(JobSpec("t_slow", slow),))
    thread.start()
    started.wait(5)
    assert runner.is_running("t_slow")
    begun = time.monotonic()
    assert runner.wait_idle(0.2) == ["t_slow"]
    assert time.monotonic() - begun == pytest.approx(0.2, abs=0.15)
    release.set()
    assert runner.wait_idle(5) == []
    thread.join()
    assert not runner.is_running("t_slow")


def test_a_database_error_is_one_line_with_the_storage_exit_code(sessions: Sessions) -> None:
    from sqlalchemy.exc import OperationalError

    def database_down() -> JobResult:
        raise OperationalError("SELECT 1", {}, Exception("connection refused\nIs the server running?"))

    runner = runner_for(sessions)
    assert runner.run(JobSpec("t_db", database_down)) == "failed"
    record = runner.last["t_db"]
    assert record.error is not None
    assert record.error.exit_code == 3
    assert record.detail == "database error: connection refused"
